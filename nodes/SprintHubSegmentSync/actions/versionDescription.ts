/* eslint-disable n8n-nodes-base/node-filename-against-convention -- n8n's router pattern (Postgres v2) keeps the description in actions/versionDescription.ts */
import { NodeConnectionTypes, type INodeTypeDescription } from 'n8n-workflow';
import * as account from './account/Account.resource';
import * as lead from './lead/Lead.resource';
import * as segment from './segment/Segment.resource';
import * as syncHealth from './syncHealth/SyncHealth.resource';

/**
 * Operations that use the database (the others read SprintHub only). Operation values are unique
 * across resources, so `operation` alone decides.
 */
const DATABASE_OPERATIONS = ['add', 'check', 'setRate', 'pause', 'report', 'reschedule', 'resume', 'runNow', 'sync', 'syncDue', 'upsert'];

export const versionDescription: INodeTypeDescription = {
	displayName: 'SprintHub Segment Sync',
	name: 'sprintHubSegmentSync',
	icon: { light: 'file:sprinthub.svg', dark: 'file:sprinthub.dark.svg' },
	group: ['transform'],
	version: 1,
	subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
	description: 'Keep the leads of SprintHub segments in Supabase: incremental, throttle-aware, resumable syncs',
	defaults: { name: 'SprintHub Segment Sync' },
	usableAsTool: true,
	inputs: [NodeConnectionTypes.Main],
	outputs: [NodeConnectionTypes.Main],
	documentationUrl: 'https://github.com/n8n-nodes-sprinthub-sync/n8n-nodes-sprinthub-sync#node-operations',
	credentials: [
		{ name: 'sprintHubApi', required: true, testedBy: 'sprintHubApiTest' },
		{
			name: 'supabaseApi',
			required: true,
			displayOptions: { show: { operation: DATABASE_OPERATIONS } },
		},
	],
	properties: [
		{
			displayName: 'Resource',
			name: 'resource',
			type: 'options',
			noDataExpression: true,
			options: [
				{ name: 'Account', value: 'account' },
				{ name: 'Lead', value: 'lead' },
				{ name: 'Segment', value: 'segment' },
				{ name: 'Sync Health', value: 'syncHealth' },
			],
			default: 'segment',
		},
		...segment.description,
		...lead.description,
		...syncHealth.description,
		...account.description,
	],
};
