import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import type { SyncOptionsParameter } from '../../helpers/interfaces';
import { forEachItem } from '../../helpers/itemLoop';
import { engineSettings, positiveInteger, progressReporter, runOptions } from '../../helpers/utils';
import type { EngineProvider } from '../../transport';
import { parallelSegmentsOption, syncOptions } from '../common.descriptions';
import { syncResultItems } from './syncResults';

const properties: INodeProperties[] = [
	{
		displayName:
			'Syncs the segments whose next_execution has come in sync_segments_control (active ones only). Call it from a Schedule Trigger; segments another worker is syncing are left alone.',
		name: 'syncDueNotice',
		type: 'notice',
		default: '',
	},
	syncOptions([
		{
			displayName: 'Max Segments',
			name: 'maxSegments',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: 10,
			description: 'Most due segments taken by one execution; the rest wait for the next trigger',
		},
		parallelSegmentsOption,
	]),
];

export const description = updateDisplayOptions({ show: { resource: ['segment'], operation: ['syncDue'] } }, properties);

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[], provider: EngineProvider): Promise<INodeExecutionData[]> {
	return forEachItem.call(this, items, provider.secrets, () => 'Sync Due', async (itemIndex) => {
		const options = this.getNodeParameter('options', itemIndex, {}) as SyncOptionsParameter;
		const engine = await provider.engine(itemIndex, engineSettings.call(this, options, itemIndex));
		const results = await engine.syncDue({
			...runOptions.call(this, options, itemIndex),
			maxSegments: positiveInteger.call(this, options.maxSegments, 'Max Segments', itemIndex, 1000),
			// The run ledger tells scheduled runs from ones started by hand (editor or `n8n execute`).
			trigger: this.getMode() === 'manual' || this.getMode() === 'cli' ? 'manual' : 'schedule',
			signal: this.getExecutionCancelSignal(),
			onProgress: progressReporter.call(this, provider.secrets),
		});
		this.logger.info(`SprintHub Segment Sync: ${results.length} due segment(s) synced`, { node: this.getNode().name });
		return syncResultItems.call(this, results, itemIndex, provider);
	});
}
