/**
 * Which record each lead of a page gets stored with. A list page carries ids and change markers; a
 * detail call (one per lead, under the account's rate budget) gives every field. Enrichment mode:
 * - changed: detail calls only for leads that are new, changed (marker moved), quarantined, never
 *   enriched, or due for the periodic full refresh;
 * - all: a detail call for every lead;
 * - none: the list record alone (written only when its marker moved).
 * A lead SprintHub no longer has (404) is reported deleted; one that cannot be fetched is quarantined
 * and retried by later runs.
 */
import { toSyncError } from '../errors';
import type { LeadMarker, PageLead, SyncStore } from '../store';
import { mapWithConcurrency } from './concurrency';
import type { DatabaseCalls } from './databaseCalls';
import type { DetailShare } from './detailShare';
import { mergeLeadRecords } from './mergeLead';
import type { EnrichmentMode, LeadSource } from './ports';
import { changeMarkerOf } from './projections';
import type { RunTally } from './runTally';

type Lead = Record<string, unknown> & { id: number };

export interface EnrichedPage {
	/** Leads to write with a record (a merged detail record, or a list record in mode none). */
	writes: PageLead[];
	/** Leads SprintHub answered 404 for. */
	deletedIds: number[];
}

/** Thrown when the page could not be finished; carries the records already fetched. */
export class EnrichmentStopped extends Error {
	constructor(
		readonly reason: unknown,
		readonly fetched: PageLead[],
	) {
		super('enrichment stopped');
	}
}

export interface EnricherSettings {
	mode: EnrichmentMode;
	/** Leads enriched before this time (ms) are due for a full refresh; null: never. */
	refreshBefore: number | null;
	/** Leads quarantined by earlier runs: always fetched again. */
	quarantinedIds: ReadonlySet<number>;
	detailConcurrency: number;
	/** Detail calls shared with runs of other segments going on at the same time. */
	detailShare?: DetailShare;
}

export class Enricher {
	constructor(
		private readonly run: {
			segmentId: number;
			/** null in a dry run: nothing is quarantined. */
			runId: string | null;
			source: LeadSource;
			store: Pick<SyncStore, 'quarantine'>;
			db: DatabaseCalls;
			/** Stops detail calls on cancel or a lost lease. */
			signal: AbortSignal;
			tally: RunTally;
		},
		private readonly settings: EnricherSettings,
	) {}

	/** Whether a lead of the page needs a detail call, given what the database knows (`known`). */
	needsDetail(lead: Lead, known: ReadonlyMap<number, LeadMarker>): boolean {
		const { mode, quarantinedIds, refreshBefore } = this.settings;
		if (mode === 'none') return false;
		if (mode === 'all') return true;
		const marker = known.get(lead.id);
		if (!marker || marker.enriched_at === null || quarantinedIds.has(lead.id)) return true;
		if (marker.change_marker !== changeMarkerOf(lead)) return true;
		return refreshBefore !== null && Date.parse(marker.enriched_at) < refreshBefore;
	}

	/** The page's records to write and its deleted leads; throws EnrichmentStopped when stopped. */
	async enrich(leads: Lead[], known: ReadonlyMap<number, LeadMarker>): Promise<EnrichedPage> {
		const { segmentId, tally } = this.run;
		const page: EnrichedPage = { writes: [], deletedIds: [] };
		if (this.settings.mode === 'none') page.writes.push(...listRecordsToWrite(leads, known));
		const detailFor = leads.filter((lead) => this.needsDetail(lead, known));
		let done = 0;
		try {
			await mapWithConcurrency(
				detailFor,
				this.settings.detailConcurrency,
				async (lead) => {
					await this.enrichOne(lead, page);
					done += 1;
					if (done % 25 === 0 || done === detailFor.length) tally.emit({ type: 'details', segmentId, done, planned: detailFor.length });
				},
				this.run.signal,
			);
		} catch (error) {
			throw new EnrichmentStopped(error, page.writes);
		}
		return page;
	}

	private async enrichOne(lead: Lead, page: EnrichedPage): Promise<void> {
		try {
			const detail = await this.fetchDetail(lead);
			if (detail === null) page.deletedIds.push(lead.id);
			else page.writes.push({ id: lead.id, record: mergeLeadRecords(lead, detail), marker: changeMarkerOf(lead), enriched: true });
		} catch (error) {
			const syncError = toSyncError(error);
			// A lead we cannot fetch is quarantined and retried by later runs; what concerns the
			// whole run (throttling past patience, credentials, cancellation) stops it.
			if (syncError.errorClass !== 'transient' && syncError.errorClass !== 'data') throw syncError;
			const { runId, store, db, tally } = this.run;
			tally.fetchFailed(lead.id, syncError.toJSON());
			if (runId !== null) await db.run(() => store.quarantine(runId, [{ lead_id: lead.id, stage: 'fetch', error: `${syncError.message}`, payload: lead }]));
		}
	}

	/**
	 * One lead's details: from a concurrent run of another segment when it already asked for the same
	 * lead and marker, otherwise a call of our own (counted as a detail call).
	 */
	private async fetchDetail(lead: Lead): Promise<Lead | null> {
		const marker = changeMarkerOf(lead);
		const share = this.settings.detailShare;
		const shared = share?.get(lead.id, marker);
		if (shared) {
			try {
				return await shared;
			} catch {
				// The other run's call failed or was cancelled: make our own.
			}
		}
		this.run.tally.stats.detailCalls += 1;
		const call = this.run.source.leadDetail(lead.id, this.run.signal);
		share?.set(lead.id, marker, call);
		return call;
	}
}

/** Mode none: list records only; one whose change marker did not move is membership only. */
function listRecordsToWrite(leads: Lead[], known: ReadonlyMap<number, LeadMarker>): PageLead[] {
	const writes: PageLead[] = [];
	for (const lead of leads) {
		const marker = changeMarkerOf(lead);
		const stored = known.get(lead.id);
		if (stored && marker !== null && stored.change_marker === marker) continue;
		writes.push({ id: lead.id, record: lead, marker, enriched: false });
	}
	return writes;
}
