import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { parameterError } from '../../helpers/errors';
import type { EngineProvider } from '../../transport';
import { schemaOptionProperty, segmentLocator } from '../common.descriptions';
import { scheduleDescription, timezoneProperty } from './common';
import { manageSegments } from './manage';

const properties: INodeProperties[] = [
	segmentLocator({ multiple: false, description: 'The segment whose schedule changes' }),
	{
		displayName: 'Schedule',
		name: 'schedule',
		type: 'string',
		required: true,
		default: '0 6 * * *',
		placeholder: '0 */6 * * *',
		description: scheduleDescription,
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		options: [schemaOptionProperty, timezoneProperty],
	},
];

export const description = updateDisplayOptions({ show: { resource: ['segment'], operation: ['reschedule'] } }, properties);

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[], provider: EngineProvider): Promise<INodeExecutionData[]> {
	return manageSegments.call(this, items, provider, 'Reschedule', async (engine, segmentId, itemIndex) => {
		const schedule = String(this.getNodeParameter('schedule', itemIndex, '') ?? '').trim();
		if (!schedule) {
			throw parameterError(this.getNode(), itemIndex, 'The schedule is empty', `Enter ${scheduleDescription.charAt(0).toLowerCase()}${scheduleDescription.slice(1)}.`);
		}
		const options = this.getNodeParameter('options', itemIndex, {}) as { timezone?: string };
		return engine.store.rescheduleSegment(segmentId, schedule, options.timezone?.trim() || undefined);
	});
}
