/**
 * One segment's sync run: claim the segment (lease and heartbeat), walk its list pages, give each
 * page's leads their records (detail calls only where something changed), write page by page (upsert,
 * membership and checkpoint commit together in the database), then finish the run; the database
 * marks leavers when the whole segment was seen. The pieces, by what they do:
 *
 *   runClaim          claim, or why the segment is not synced now
 *   runLease          heartbeat, cancel, lease lost
 *   segmentWalker     pages, honoured page size, re-walks, end detection
 *   leaverConfirmation  when a run may say it saw the whole segment
 *   deletedLeavers    leavers SprintHub deleted are stamped deleted before the finish
 *   pageProcessor     one page: known markers → enricher → deleted leads → page writer
 *   enricher          who needs a detail call, shared detail calls, the merge rule (mergeLead)
 *   pageWriter        batches by rows and bytes, page keys, retries, halving on timeout
 *   runCheckpoint     where an unfinished run resumes
 *   runTally          counts, errors and progress events
 *   runFinish         the log row closed, the result built
 */
import { SyncError } from '../errors';
import type { ClaimRow, SyncStore } from '../store';
import { DEFAULT_BATCH_LIMITS, type BatchLimits } from './batches';
import type { DetailShare } from './detailShare';
import { DatabaseCalls, fromStoreError } from './databaseCalls';
import { stampDeletedLeavers } from './deletedLeavers';
import { Enricher } from './enricher';
import { PageProcessor } from './pageProcessor';
import { PageWriter } from './pageWriter';
import type { EnrichmentMode, LeadSource, RunTrigger, SegmentSyncResult, SyncCheckpoint, SyncProgressEvent } from './ports';
import { ListRecordsPlan } from './listCapability';
import { LIST_PROJECTION, MARKER_PROJECTION } from './projections';
import { firstPass, readCheckpoint } from './runCheckpoint';
import { claimRun } from './runClaim';
import { finishStopped, finishWalked, runResult, type RunIdentity } from './runFinish';
import { RunLease } from './runLease';
import { RunTally, type ClientCounters } from './runTally';
import { SegmentWalker, type WalkOutcome } from './segmentWalker';

export type SyncStoreForRuns = Pick<
	SyncStore,
	| 'claim'
	| 'releaseDeadLease'
	| 'heartbeat'
	| 'markers'
	| 'quarantined'
	| 'applyPage'
	| 'markDeleted'
	| 'quarantine'
	| 'finish'
	| 'leaveCandidates'
	| 'leaveCandidateIds'
	| 'stampDeletedLeavers'
	| 'listCapability'
	| 'recordListCapability'
	| 'knownLeadFields'
>;

export interface SegmentSyncOptions {
	segmentId: number;
	trigger: RunTrigger;
	/** Names this worker in leases and logs. */
	worker: string;
	/** Default: the segment's own setting, else 'auto'. */
	enrichment?: EnrichmentMode;
	/** Fetch every lead's details this run, whatever changed. */
	fullRefresh?: boolean;
	/** Everything but the writes (no claim, no log row): report what would change. */
	dryRun?: boolean;
	/** Leads asked per list page; the server may honour fewer (learned on page 0). Default 1000. */
	pageSize?: number;
	/** Detail calls in flight at once (all under the account's rate budget). Default 4. */
	detailConcurrency?: number;
	batch?: BatchLimits;
	/** Page writes queued behind fetching (1–2; 0 writes each page before reading the next). Default 1. */
	writeAhead?: number;
	/** Walks per run through a segment that keeps moving before giving up on a stable view. Default 3. */
	maxWalks?: number;
	/** Lease renewal period. Default 20 s (leases last 300 s unless the segment says otherwise). */
	heartbeatMs?: number;
	/** How long each database call of the run retries transient failures. Default 120 s. */
	databasePatienceMs?: number;
	/** A run already claimed (Sync Due claims several at once); otherwise this segment is claimed. */
	claimed?: ClaimRow;
	signal?: AbortSignal;
	onProgress?: (event: SyncProgressEvent) => void;
	/** Client counters, read at the end (requests, throttled responses, retries, backoff). */
	clientStats?: () => ClientCounters;
}

export async function syncSegment(
	deps: { source: LeadSource; store: SyncStoreForRuns; detailShare?: DetailShare },
	options: SegmentSyncOptions,
): Promise<SegmentSyncResult> {
	const { source, store } = deps;
	const tally = new RunTally(options.onProgress, options.clientStats);
	const run: RunIdentity = { segmentId: options.segmentId, segmentName: null, runId: null, dryRun: options.dryRun ?? false, resumed: false, startedAt: Date.now() };
	const segmentId = run.segmentId;

	if (!Number.isSafeInteger(segmentId) || segmentId <= 0) {
		const error = new SyncError({
			errorClass: 'configuration',
			code: 'invalid_segment_id',
			message: `Segment id "${String(segmentId)}" is not a positive integer.`,
			hint: 'Use the numeric id of the segment in SprintHub, e.g. 123.',
		});
		return runResult(run, tally, { status: 'failed', message: error.message, error: error.toJSON() });
	}

	// A dry run claims nothing and writes nothing; it only reads what the database knows.
	let checkpoint: SyncCheckpoint | null = null;
	let enrichment: EnrichmentMode = options.enrichment ?? 'auto';
	let fullRefreshDays: number | null = null;
	// Until the lease exists, only the caller's signal stops the claim's retries.
	const retried = (signal: AbortSignal) =>
		new DatabaseCalls(signal, options.databasePatienceMs, (retry) => {
			tally.stats.databaseRetries += 1;
			tally.emit({ type: 'retry', segmentId, attempt: retry.attempt, message: `database: ${retry.message} (again in ${retry.waitMs} ms)` });
		});
	if (!run.dryRun) {
		const claim = await claimRun({ store, db: retried(options.signal ?? new AbortController().signal) }, { segmentId, worker: options.worker, trigger: options.trigger, claimed: options.claimed });
		if ('refused' in claim) return runResult(run, tally, { ...claim.refused, error: claim.refused.error?.toJSON() });
		const claimed = claim.claimed;
		run.runId = claimed.run_id;
		run.segmentName = claimed.segment_name;
		checkpoint = readCheckpoint(claimed.checkpoint);
		enrichment = options.enrichment ?? checkpoint?.enrichment ?? claimed.enrichment_mode ?? 'auto';
		fullRefreshDays = claimed.full_refresh_days;
		run.resumed = checkpoint !== null;
		tally.emit({ type: 'claimed', segmentId, runId: claimed.run_id, resumedAtPage: checkpoint ? checkpoint.nextPage : null });
	}
	if (options.fullRefresh) enrichment = 'all';

	const runId = run.runId;
	const lease = new RunLease(store, runId, options.signal, options.heartbeatMs, (error) => tally.keepError(fromStoreError(error).toJSON()));
	const db = retried(lease.signal);
	const pieces = { segmentId, runId, source, store, db, lease, signal: lease.signal, tally };
	/** Leads quarantined by earlier runs are fetched again (loaded when the walk starts). */
	const quarantinedIds = new Set<number>();
	let listPlan: ListRecordsPlan | undefined;
	try {
		if (enrichment === 'auto') listPlan = await ListRecordsPlan.load({ account: source.account?.() ?? null, store, db, record: runId !== null });
	} catch (error) {
		lease.release();
		return finishStopped(run, { error, atPage: checkpoint?.nextPage ?? 0, lease, callerSignal: options.signal }, { store, db }, tally);
	}
	const enricher = new Enricher(pieces, {
		mode: enrichment,
		refreshBefore: fullRefreshDays && fullRefreshDays > 0 ? Date.now() - fullRefreshDays * 86_400_000 : null,
		quarantinedIds,
		detailConcurrency: options.detailConcurrency ?? 4,
		detailShare: deps.detailShare,
		listPlan,
	});
	const writer = runId === null ? null : new PageWriter({ ...pieces, runId }, options.batch ?? DEFAULT_BATCH_LIMITS);
	const pages = new PageProcessor({ ...pieces, enricher, writer }, Math.max(0, Math.min(2, options.writeAhead ?? 1)));
	const walker = new SegmentWalker(
		pieces,
		{
			pass: checkpoint ?? firstPass(options.pageSize ?? 1000, enrichment),
			projection: listPlan ? () => listPlan.pageQuery() : enrichment === 'none' ? LIST_PROJECTION : MARKER_PROJECTION,
			maxWalks: options.maxWalks ?? 3,
		},
		(leads, pageKey, pageCheckpoint, walk) => pages.process(leads, pageKey, pageCheckpoint, walk),
		() => pages.drain(),
	);
	let outcome: WalkOutcome;
	try {
		if (runId !== null) for (const quarantined of await db.run(() => store.quarantined(segmentId, 100_000))) quarantinedIds.add(quarantined.lead_id);
		outcome = await walker.walk();
		if (outcome.complete && runId !== null) {
			await stampDeletedLeavers({ ...pieces, runId }, { concurrency: options.detailConcurrency ?? 4 });
		}
	} catch (error) {
		// Writes already queued finish (or fail) before the run is closed; a later failure than the one
		// that stopped the run is kept among its errors.
		await pages.drain().catch((writeError: unknown) => {
			if (writeError !== error) tally.keepError(fromStoreError(writeError).toJSON());
		});
		lease.release();
		return withListRecords(await finishStopped(run, { error, atPage: pages.resumePage(walker.pass.nextPage), lease, callerSignal: options.signal }, { store, db }, tally), listPlan);
	}
	lease.release();
	return withListRecords(await finishWalked(run, outcome, { store, db }, tally), listPlan);
}

/** Enrichment auto: the result shows what is known of the account's list records and how the run used it. */
function withListRecords(result: SegmentSyncResult, plan: ListRecordsPlan | undefined): SegmentSyncResult {
	return plan ? { ...result, listRecords: plan.outcome() } : result;
}
