/**
 * The vocabulary of a sync run: what it reads from SprintHub (as a narrow interface the client
 * implements and a test can reason about), its options, progress events and results.
 */
import type { SyncErrorJson } from '../errors';
import type { BudgetAccount } from '../sprinthub/budgetStore';

export type EnrichmentMode = 'auto' | 'changed' | 'all' | 'none';
export type RunTrigger = 'schedule' | 'manual' | 'cli';
export type RunStatus = 'success' | 'partial' | 'rate_limited' | 'failed' | 'cancelled' | 'skipped';

export interface LeadSource {
	segmentPage(
		segmentId: number,
		params: { page: number; limit: number; query: string; allFields?: boolean },
		signal?: AbortSignal,
	): Promise<{
		total: number;
		leads: Array<Record<string, unknown> & { id: number }>;
		invalid: Array<{ raw: unknown; error: Error }>;
		received: number;
	}>;
	/** The full record, or null when SprintHub says the lead no longer exists (404). */
	leadDetail(leadId: number, signal?: AbortSignal): Promise<(Record<string, unknown> & { id: number }) | null>;
	/**
	 * The segment as the account's segment list shows it, or null when the list does not have it.
	 * Asked only when a segment looks empty: some servers answer an unknown segment with an empty page.
	 */
	findSegment?(segmentId: number, signal?: AbortSignal): Promise<unknown>;
	/** The account called (enrichment auto keeps what it learns per account); without it, auto acts as changed. */
	account?(): BudgetAccount;
}

/** Where an unfinished run stopped, stored with the segment so the next run resumes there. */
export interface SyncCheckpoint {
	/** Walks done within the pass (re-enumerations after the segment moved under us). */
	walk: number;
	nextPage: number;
	/** The page size the server honours (learned on page 0). */
	limit: number;
	/** Leads received in this walk so far. */
	seen: number;
	/** The total announced when the walk started. */
	total: number;
	/** The walk saw the segment move (total changed, pages overlapped). */
	shifted: boolean;
	/** The enrichment mode the pass started with (a resumed pass keeps it). */
	enrichment: EnrichmentMode;
}

export interface RunStats {
	pages: number;
	walks: number;
	requests: number;
	throttled: number;
	retries: number;
	backoffMs: number;
	leadsSeen: number;
	detailCalls: number;
	inserted: number;
	updated: number;
	unchanged: number;
	joined: number;
	deleted: number;
	left: number;
	/** Leads quarantined (could not be fetched or written) plus records without a usable id. */
	failed: number;
	/** Database calls tried again after a transient failure (the database's bad minutes). */
	databaseRetries: number;
}

export type SyncProgressEvent =
	| { type: 'claimed'; segmentId: number; runId: string; resumedAtPage: number | null }
	| { type: 'page'; segmentId: number; page: number; leads: number; total: number; seen: number }
	| { type: 'details'; segmentId: number; done: number; planned: number }
	| { type: 'written'; segmentId: number; inserted: number; updated: number; unchanged: number }
	| { type: 'walk'; segmentId: number; walk: number }
	| { type: 'throttled'; segmentId: number; waitMs: number; requestsPerMinute: number }
	| { type: 'retry'; segmentId: number; attempt: number; message: string }
	| { type: 'finished'; segmentId: number; status: RunStatus; durationMs: number; message: string };

export interface SegmentSyncResult {
	segmentId: number;
	segmentName: string | null;
	runId: string | null;
	status: RunStatus;
	message: string;
	dryRun: boolean;
	durationMs: number;
	stats: RunStats;
	/** Percent of the leads seen that were stored without a problem. */
	successRate: number | null;
	/** Leads marked as having left the segment by this run. */
	left: number;
	/** Leavers the guard refused to mark (too large a share of the segment looked gone). */
	leftBlocked: number;
	/**
	 * Members an earlier walk of the run saw and the walk that saw the whole segment missed (they left
	 * while the run paged): not marked yet, since one walk missing a lead is not enough; the next run
	 * marks them if it misses them too.
	 */
	leaversPending: number;
	resumed: boolean;
	/** The run saw the whole segment (leavers could be marked). */
	complete: boolean;
	nextExecution: string | null;
	/** Up to 20 errors met (details, writes), redacted. */
	errors: SyncErrorJson[];
	/** The error that ended the run, when one did. */
	error?: SyncErrorJson;
	/** Enrichment auto: what is known of the account's list records and how this run used it. */
	listRecords?: ListRecordsOutcome;
}

/** Enrichment auto, as the run's result shows it. */
export interface ListRecordsOutcome {
	/** 'list': leads stored from list pages; 'detail': detail calls as in changed; 'checking': the sample was not finished. */
	usedThisRun: 'list' | 'detail' | 'checking';
	/** The account's list pages carry full records (null: not known yet). */
	listComplete: boolean | null;
	askedWith: string | null;
	/** When the account was last checked (ISO), and whether this run checked it. */
	checkedAt: string | null;
	checkedThisRun: boolean;
	/** Re-verification of one lead this run (list mode): true agreed, false disagreed (the run fell back), null none. */
	verifiedThisRun: boolean | null;
	fields: number;
	missingFields: string[];
	differingFields: string[];
	sampleSize: number;
	/** List leads that lacked a field and got a detail call instead. */
	incompleteListRecords: number;
}
