/** The output of Sync and Sync Due: what a run of several segments gives back. */
import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import type { SegmentSyncResult } from '../../../../engine';
import { fromSyncErrorJson } from '../../helpers/errors';
import { errorItem } from '../../helpers/itemLoop';
import { summaryOf } from '../../helpers/utils';
import type { EngineProvider } from '../../transport';

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
