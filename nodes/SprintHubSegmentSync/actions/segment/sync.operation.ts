import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import type { SegmentSyncResult } from '../../../../engine';
import { fromSyncErrorJson } from '../../helpers/errors';
import type { SyncOptionsParameter } from '../../helpers/interfaces';
import { errorItem, forEachItem } from '../../helpers/itemLoop';
import { engineSettings, parseSegmentIds, progressReporter, runOptions, summaryOf } from '../../helpers/utils';
import type { EngineProvider } from '../../transport';
import { segmentLocator, syncOptions, parallelSegmentsOption } from '../common.descriptions';

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

/**
 * One summary item per segment. A failed segment is an error: an error item (continue on fail) or
 * the node's error, after every other segment of the item has run and been recorded.
 */
export function syncResultItems(this: IExecuteFunctions, results: SegmentSyncResult[], itemIndex: number, provider: EngineProvider): INodeExecutionData[] {
	const output: INodeExecutionData[] = [];
	for (const result of results) {
		const summary = summaryOf(result, provider.secrets);
		if (result.status !== 'failed') {
			output.push({ json: summary, pairedItem: { item: itemIndex } });
			continue;
		}
		const error = fromSyncErrorJson(
			result.error ?? { name: 'SyncError', errorClass: 'system', message: result.message, hint: 'See the run in sync_segments_logs.', retryable: false },
			{ node: this.getNode(), itemIndex, secrets: provider.secrets, action: `Syncing segment ${result.segmentId}` },
		);
		if (!this.continueOnFail()) throw error;
		output.push(errorItem(error, itemIndex, summary));
	}
	return output;
}
