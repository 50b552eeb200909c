import type { INodeProperties } from 'n8n-workflow';
import * as add from './add.operation';
import * as getLeads from './getLeads.operation';
import * as getMany from './getMany.operation';
import * as pause from './pause.operation';
import * as reschedule from './reschedule.operation';
import * as resume from './resume.operation';
import * as runNow from './runNow.operation';
import * as sync from './sync.operation';
import * as syncDue from './syncDue.operation';

export { add, getLeads, getMany, pause, reschedule, resume, runNow, sync, syncDue };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['segment'] } },
		options: [
			{ name: 'Add', value: 'add', description: 'Register a segment for syncing in sync_segments_control', action: 'Add a segment' },
			{ name: 'Get Leads', value: 'getLeads', description: 'Get the leads of a segment from SprintHub', action: 'Get the leads of a segment' },
			{ name: 'Get Many', value: 'getMany', description: 'Get the segments of the SprintHub account', action: 'Get many segments' },
			{ name: 'Pause', value: 'pause', description: 'Stop scheduled syncs of a segment', action: 'Pause a segment' },
			{ name: 'Reschedule', value: 'reschedule', description: 'Change when a segment is synced', action: 'Reschedule a segment' },
			{ name: 'Resume', value: 'resume', description: 'Restart scheduled syncs of a segment', action: 'Resume a segment' },
			{ name: 'Run Now', value: 'runNow', description: 'Make a segment due at the next Sync Due', action: 'Make a segment due now' },
			{ name: 'Sync', value: 'sync', description: 'Sync one or more segments into Supabase now', action: 'Sync segments' },
			{ name: 'Sync Due', value: 'syncDue', description: 'Sync the segments whose scheduled time has come', action: 'Sync due segments' },
		],
		default: 'sync',
	},
	...sync.description,
	...syncDue.description,
	...getLeads.description,
	...getMany.description,
	...add.description,
	...pause.description,
	...resume.description,
	...reschedule.description,
	...runNow.description,
];
