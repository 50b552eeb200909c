import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import type { LeadUpsertResult } from '../../../../engine/store';
import { toNodeError } from '../../helpers/errors';
import { errorItem } from '../../helpers/itemLoop';
import type { EngineProvider } from '../../transport';
import type { PendingRecord } from './upsert.operation';

const CHUNK = 500;

/**
 * "Use the Input Record": the records go to the database as given, in chunks of 500 per (schema,
 * complete) pair, through sync_upsert_leads_guarded (no deleted lead brought back, no newer record
 * overwritten).
 */
export async function upsertGiven(
	this: IExecuteFunctions,
	pending: PendingRecord[],
	output: Array<INodeExecutionData[] | undefined>,
	provider: EngineProvider,
): Promise<void> {
	const groups = new Map<string, PendingRecord[]>();
	for (const entry of pending) {
		const key = JSON.stringify([entry.schema ?? null, entry.complete]);
		let group = groups.get(key);
		if (!group) groups.set(key, (group = []));
		group.push(entry);
	}
	for (const group of groups.values()) {
		for (let start = 0; start < group.length; start += CHUNK) {
			const chunk = group.slice(start, start + CHUNK);
			let results: LeadUpsertResult[];
			try {
				const engine = await provider.engine(chunk[0].itemIndex, { schema: chunk[0].schema });
				results = await engine.store.upsertLeadsGuarded(
					chunk.map((entry) => entry.record),
					{ complete: chunk[0].complete },
				);
			} catch (error) {
				const itemIndexes = [...new Set(chunk.map((entry) => entry.itemIndex))];
				const nodeError = toNodeError(error, { node: this.getNode(), itemIndex: itemIndexes[0], secrets: provider.secrets, action: 'Lead Upsert' });
				if (!this.continueOnFail()) throw nodeError;
				for (const itemIndex of itemIndexes) {
					if (output[itemIndex]!.some((item) => item.error)) continue;
					output[itemIndex] = [errorItem(nodeError, itemIndex)];
				}
				continue;
			}
			results.forEach((result, position) => {
				const { itemIndex } = chunk[position];
				const target = output[itemIndex]!;
				if (target.some((item) => item.error)) return;
				target.push({ json: resultItem(result), pairedItem: { item: itemIndex } });
			});
		}
	}
}

function resultItem(result: LeadUpsertResult): IDataObject {
	return {
		id: result.id as IDataObject['id'],
		status: result.status,
		reason: result.reason,
		castProblems: result.cast_problems as IDataObject | null,
	};
}
