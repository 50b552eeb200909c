import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import type { SyncOptionsParameter } from '../../helpers/interfaces';
import { forEachItem } from '../../helpers/itemLoop';
import { engineSettings, parseSegmentIds, progressReporter, runOptions } from '../../helpers/utils';
import type { EngineProvider } from '../../transport';
import { segmentLocator, syncOptions, parallelSegmentsOption } from '../common.descriptions';
import { syncResultItems } from './syncResults';

const properties: INodeProperties[] = [
	segmentLocator({
		multiple: true,
		description:
			'The segment to sync now, picked from the list. To sync several at once, switch to By ID(s) and type their ids separated by commas, or map them per input item with an expression. Each must be registered (Segment → Add).',
	}),
	syncOptions([
		parallelSegmentsOption,
	]),
];

export const description = updateDisplayOptions({ show: { resource: ['segment'], operation: ['sync'] } }, properties);

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[], provider: EngineProvider): Promise<INodeExecutionData[]> {
	return forEachItem.call(this, items, provider.secrets, () => 'Sync', async (itemIndex) => {
		const segmentIds = parseSegmentIds.call(this, this.getNodeParameter('segment', itemIndex, undefined, { extractValue: true }), itemIndex, { multiple: true });
		const options = this.getNodeParameter('options', itemIndex, {}) as SyncOptionsParameter;
		const engine = await provider.engine(itemIndex, engineSettings.call(this, options, itemIndex));
		const results = await engine.syncSegments(segmentIds, {
			...runOptions.call(this, options, itemIndex),
			trigger: 'manual',
			signal: this.getExecutionCancelSignal(),
			onProgress: progressReporter.call(this, provider.secrets),
		});
		return syncResultItems.call(this, results, itemIndex, provider);
	});
}
