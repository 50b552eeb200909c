import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { leadRefresher, type LeadRefreshResult } from '../../../../engine/sync/leadRefresh';
import { mapWithConcurrency } from '../../../../engine/sync/concurrency';
import { toNodeError } from '../../helpers/errors';
import { errorItem } from '../../helpers/itemLoop';
import type { EngineProvider } from '../../transport';
import { leadIdOf } from '../../helpers/webhookRequest';
import type { PendingRecord } from './upsert.operation';

/** Leads refreshed at once; each still waits for the account's SprintHub budget. */
const CONCURRENCY = 32;

/**
 * "Fetch From SprintHub": each input names a lead; its record is fetched (one detail call under the
 * account's budget, shared with other calls for the same lead in the coalesce window) and written
 * with its change marker. A 404 writes nothing, or marks a stored lead deleted.
 */
export async function upsertFetched(
	this: IExecuteFunctions,
	pending: PendingRecord[],
	output: Array<INodeExecutionData[] | undefined>,
	provider: EngineProvider,
): Promise<void> {
	const results = await mapWithConcurrency(pending, CONCURRENCY, async (entry) => {
		const leadId = leadIdOf(entry.record);
		if (leadId === undefined) {
			return { ok: true as const, json: { id: idAsSent(entry.record), status: 'rejected', reason: 'missing or invalid lead id (a positive integer is required)', castProblems: null } };
		}
		try {
			const engine = await provider.engine(entry.itemIndex, { schema: entry.schema });
			const result = await leadRefresher.refresh(engine.scope, leadId, entry.coalesceMs, {
				fetchLead: async (id) => (await engine.sprintHub().leadDetail(id)) as Record<string, unknown> | null,
				writeLead: async (record) => (await engine.store.upsertLeads([record], { complete: true }))[0],
				markDeleted: (ids) => engine.store.markLeadsDeleted(ids),
			});
			return { ok: true as const, json: resultItem(result) };
		} catch (error) {
			return { ok: false as const, error };
		}
	});
	results.forEach((result, position) => {
		const { itemIndex } = pending[position];
		const target = output[itemIndex]!;
		if (target.some((item) => item.error)) return;
		if (result.ok) {
			target.push({ json: result.json, pairedItem: { item: itemIndex } });
			return;
		}
		const nodeError = toNodeError(result.error, { node: this.getNode(), itemIndex, secrets: provider.secrets, action: 'Lead Upsert (fetch from SprintHub)' });
		if (!this.continueOnFail()) throw nodeError;
		output[itemIndex] = [errorItem(nodeError, itemIndex)];
	});
}

/** The lead id as the item sent it ({id: 123}, 123 or "123"), for the result item. */
function idAsSent(value: unknown): IDataObject['id'] {
	const raw = value && typeof value === 'object' && !Array.isArray(value) ? (value as { id?: unknown }).id : value;
	return (raw === undefined ? null : raw) as IDataObject['id'];
}

function resultItem(result: LeadRefreshResult): IDataObject {
	return { id: result.id, status: result.status, reason: result.reason, castProblems: result.castProblems as IDataObject | null, shared: result.shared };
}
