import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import type { EngineProvider } from '../../transport';
import { schemaOptionProperty, segmentLocator } from '../common.descriptions';
import { manageSegments } from './manage';

const properties: INodeProperties[] = [
	segmentLocator({ multiple: false, description: 'The segment to make due: the next Sync Due takes it, whatever its schedule' }),
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		options: [schemaOptionProperty],
	},
];

export const description = updateDisplayOptions({ show: { resource: ['segment'], operation: ['runNow'] } }, properties);

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[], provider: EngineProvider): Promise<INodeExecutionData[]> {
	return manageSegments.call(this, items, provider, 'Run Now', async (engine, segmentId) => engine.store.runSegmentNow(segmentId));
}
