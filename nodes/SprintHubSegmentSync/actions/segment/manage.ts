import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import type { SegmentControl, SyncEngine } from '../../../../engine';
import { schemaOption } from '../../helpers/inputs';
import { forEachItem } from '../../helpers/itemLoop';
import { parseSegmentIds } from '../../helpers/utils';
import type { EngineProvider } from '../../transport';

/** Pause, Resume, Run Now and Reschedule: one control row change per item, the row as output. */
export async function manageSegments(
	this: IExecuteFunctions,
	items: INodeExecutionData[],
	provider: EngineProvider,
	action: string,
	change: (engine: SyncEngine, segmentId: number, itemIndex: number) => Promise<SegmentControl>,
): Promise<INodeExecutionData[]> {
	return forEachItem.call(this, items, provider.secrets, () => action, async (itemIndex) => {
		const [segmentId] = parseSegmentIds.call(this, this.getNodeParameter('segment', itemIndex, undefined, { extractValue: true }), itemIndex, { multiple: false });
		const engine = await provider.engine(itemIndex, { schema: schemaOption.call(this, itemIndex) });
		const row = await change(engine, segmentId, itemIndex);
		return [{ json: controlItem(row), pairedItem: { item: itemIndex } }];
	});
}

/** A control row as an item, without the engine's internal checkpoint. */
function controlItem(row: SegmentControl): IDataObject {
	const { checkpoint, ...rest } = row;
	return { ...rest, hasCheckpoint: checkpoint !== null && checkpoint !== undefined } as IDataObject;
}
