import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import type { SegmentControl } from '../../../../engine';
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
		if (results.length === 0) {
			// One item that says so, rather than none: the editor would show "No output data" and the
			// next node (the bundled workflow's health check) would not run.
			return [{ json: nothingDueSummary(await engine.store.listControl(), new Date()), pairedItem: { item: itemIndex } }];
		}
		return syncResultItems.call(this, results, itemIndex, provider);
	});
}

/** The item of a Sync Due that found nothing to sync: why, and which segment is due next, when. */
export function nothingDueSummary(control: SegmentControl[], now: Date): IDataObject {
	const name = (row: SegmentControl) => (row.segment_name ? `${row.segment_name} (${row.segment_id})` : `segment ${row.segment_id}`);
	const active = control
		.filter((row) => row.status === 'active' && row.next_execution)
		.sort((a, b) => Date.parse(a.next_execution!) - Date.parse(b.next_execution!));
	// Due but not taken: another worker holds it (its lease), or it was taken since.
	const busy = active.filter((row) => Date.parse(row.next_execution!) <= now.getTime());
	const next = active.find((row) => Date.parse(row.next_execution!) > now.getTime());
	let message: string;
	if (control.length === 0) {
		message = 'No segment is registered: add one with Segment → Add (or select sync_add_segment(<id>); in SQL).';
	} else if (busy.length > 0) {
		message = `No segment was free to sync: ${busy.map(name).join(', ')} ${busy.length === 1 ? 'is' : 'are'} being synced by another run.`;
	} else if (next) {
		message = `No segment is due. Next: ${name(next)} at ${new Date(next.next_execution!).toISOString()}.`;
	} else {
		message = `No segment is due, and none is active (${control.filter((row) => row.status !== 'active').length} paused or in error): resume one with Segment → Resume.`;
	}
	return {
		status: 'nothing_due',
		segmentsDue: 0,
		message,
		nextSegmentId: next?.segment_id ?? null,
		nextSegmentName: next?.segment_name ?? null,
		nextExecution: next ? new Date(next.next_execution!).toISOString() : null,
	};
}
