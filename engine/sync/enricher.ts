/**
 * Which record each lead of a page gets stored with. A list page carries ids and change markers; a
 * detail call (one per lead, under the account's rate budget) gives every field. Enrichment mode:
 * - changed: detail calls only for leads that are new, changed (marker moved), quarantined, never
 *   enriched, or due for the periodic full refresh;
 * - all: a detail call for every lead;
 * - none: the list record alone (written only when its marker moved);
 * - auto: as changed, but when the account's list pages carry full records (ListRecordsPlan) the
 *   leads that need a write are stored from the list record, with no detail call; a list record
 *   that lacks a field still gets one.
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
import { LIST_CHECK_SAMPLE, type ListRecordsPlan } from './listCapability';
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
	/** Mode auto: what the account's list pages carry. */
	listPlan?: ListRecordsPlan;
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
		// auto decides per page whether a lead that needs a record gets it from the list or a detail call.
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
		let detailFor = leads.filter((lead) => this.needsDetail(lead, known));
		const plan = this.settings.mode === 'auto' ? this.settings.listPlan : undefined;
		if (plan) detailFor = await this.planPage(plan, leads, detailFor, page);
		let done = 0;
		const sample = plan?.state === 'checking' ? sampleOf(leads, detailFor) : [];
		if (sample.length) detailFor = [...detailFor, ...sample.filter((lead) => !detailFor.includes(lead))];
		const details = new Map<number, Lead>();
		try {
			await mapWithConcurrency(
				detailFor,
				this.settings.detailConcurrency,
				async (lead) => {
					const detail = await this.enrichOne(lead, page);
					if (detail) details.set(lead.id, detail);
					done += 1;
					if (done % 25 === 0 || done === detailFor.length) tally.emit({ type: 'details', segmentId, done, planned: detailFor.length });
				},
				this.run.signal,
			);
		} catch (error) {
			throw new EnrichmentStopped(error, page.writes);
		}
		if (plan && sample.length) {
			await plan.decide(sample.filter((lead) => details.has(lead.id)).map((lead) => ({ list: lead, detail: details.get(lead.id)! })));
		}
		return page;
	}

	/**
	 * Mode auto on list pages that carry full records: one lead of the run is re-verified against its
	 * detail record (a disagreement sends the run back to detail calls); leads whose list record has
	 * every field are stored from it. Returns the leads that still need a detail call.
	 */
	private async planPage(plan: ListRecordsPlan, leads: Lead[], detailFor: Lead[], page: EnrichedPage): Promise<Lead[]> {
		if (plan.state !== 'list' || leads.length === 0) return detailFor;
		if (plan.needsVerification) {
			// Any lead shows whether the server still honours allFields; one that needs no write is
			// preferred, so the leads that do are still checked field by field below.
			const unchanged = leads.filter((lead) => !detailFor.includes(lead));
			const pool = unchanged.length ? unchanged : leads;
			const lead = pool[Math.floor(Math.random() * pool.length)];
			let detail: Lead | null | undefined;
			try {
				detail = await this.enrichOne(lead, page);
			} catch (error) {
				throw new EnrichmentStopped(error, page.writes);
			}
			detailFor = detailFor.filter((other) => other !== lead);
			if (!detail || !(await plan.verify(lead, detail))) return detailFor;
		}
		const fromDetail: Lead[] = [];
		for (const lead of detailFor) {
			if (plan.carriesEveryField(lead)) page.writes.push({ id: lead.id, record: lead, marker: changeMarkerOf(lead), enriched: true });
			else fromDetail.push(lead);
		}
		plan.incompleteListRecords += fromDetail.length;
		return fromDetail;
	}

	/** The detail record fetched (undefined when the lead could not be fetched and was quarantined). */
	private async enrichOne(lead: Lead, page: EnrichedPage): Promise<Lead | null | undefined> {
		try {
			const detail = await this.fetchDetail(lead);
			if (detail === null) page.deletedIds.push(lead.id);
			else page.writes.push({ id: lead.id, record: mergeLeadRecords(lead, detail), marker: changeMarkerOf(lead), enriched: true });
			return detail;
		} catch (error) {
			const syncError = toSyncError(error);
			// A lead we cannot fetch is quarantined and retried by later runs; what concerns the
			// whole run (throttling past patience, credentials, cancellation) stops it.
			if (syncError.errorClass !== 'transient' && syncError.errorClass !== 'data') throw syncError;
			const { runId, store, db, tally } = this.run;
			tally.fetchFailed(lead.id, syncError.toJSON());
			if (runId !== null) await db.run(() => store.quarantine(runId, [{ lead_id: lead.id, stage: 'fetch', error: `${syncError.message}`, payload: lead }]));
			return undefined;
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

/** The leads compared when an account is checked: those that need a detail call anyway first. */
function sampleOf(leads: Lead[], detailFor: Lead[]): Lead[] {
	const sample = detailFor.slice(0, LIST_CHECK_SAMPLE);
	for (const lead of leads) {
		if (sample.length >= LIST_CHECK_SAMPLE) break;
		if (!sample.includes(lead)) sample.push(lead);
	}
	return sample;
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
