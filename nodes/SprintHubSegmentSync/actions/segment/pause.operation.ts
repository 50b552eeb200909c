import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import type { EngineProvider } from '../../transport';
import { schemaOptionProperty, segmentLocator } from '../common.descriptions';
import { manageSegments } from './manage';

const properties: INodeProperties[] = [
	segmentLocator({ multiple: false, description: 'The segment to pause: Sync Due skips it until it is resumed (a run in progress finishes)' }),
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		options: [schemaOptionProperty],
	},
];

export const description = updateDisplayOptions({ show: { resource: ['segment'], operation: ['pause'] } }, properties);

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[], provider: EngineProvider): Promise<INodeExecutionData[]> {
	return manageSegments.call(this, items, provider, 'Pause', async (engine, segmentId) => engine.store.pauseSegment(segmentId));
}
