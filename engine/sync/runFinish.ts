/**
 * How a run ends: the run's log row is closed in the database (which marks leavers when the run was
 * complete, counts the failures that pause a segment, and sets the next execution), and the result
 * the caller reads is built from it.
 */
import { cancelledError, type SyncError } from '../errors';
import type { FinishResult, SyncStore } from '../store';
import { fromStoreError, type DatabaseCalls } from './databaseCalls';
import type { RunStatus, SegmentSyncResult } from './ports';
import type { RunLease } from './runLease';
import type { RunTally } from './runTally';
import type { WalkOutcome } from './segmentWalker';

/** Who the run is; fixed once the claim is made. */
export interface RunIdentity {
	segmentId: number;
	segmentName: string | null;
	/** null in a dry run and when no run was claimed. */
	runId: string | null;
	dryRun: boolean;
	resumed: boolean;
	/** Date.now() when the run started. */
	startedAt: number;
}

type ResultParts = Partial<SegmentSyncResult> & Pick<SegmentSyncResult, 'status' | 'message'>;

/** The caller's result (and the `finished` progress event). */
export function runResult(run: RunIdentity, tally: RunTally, parts: ResultParts): SegmentSyncResult {
	tally.adoptClientCounters();
	const durationMs = Date.now() - run.startedAt;
	tally.emit({ type: 'finished', segmentId: run.segmentId, status: parts.status, durationMs, message: parts.message });
	return {
		segmentId: run.segmentId,
		segmentName: run.segmentName,
		runId: run.runId,
		dryRun: run.dryRun,
		durationMs,
		stats: tally.stats,
		successRate: tally.successRate(),
		left: 0,
		leftBlocked: 0,
		leaversPending: 0,
		resumed: run.resumed,
		complete: false,
		nextExecution: null,
		errors: tally.errors,
		...parts,
	};
}

/**
 * The run stopped on an error, a cancel or a lost lease. The log row records it (unless the lease
 * is lost: the segment is another worker's now); the checkpoint already stored is where the next
 * run resumes.
 */
export async function finishStopped(
	run: RunIdentity,
	ended: { error: unknown; atPage: number; lease: RunLease; callerSignal?: AbortSignal },
	database: { store: Pick<SyncStore, 'finish'>; db: DatabaseCalls },
	tally: RunTally,
): Promise<SegmentSyncResult> {
	const { lease } = ended;
	const syncError: SyncError = lease.lost ?? (ended.callerSignal?.aborted ? cancelledError('The sync') : fromStoreError(ended.error));
	const status: RunStatus = syncError.errorClass === 'cancelled' ? 'cancelled' : syncError.errorClass === 'throttled' ? 'rate_limited' : 'failed';
	const message =
		status === 'rate_limited'
			? `SprintHub kept throttling beyond the run's patience; stopped at page ${ended.atPage}, the next run resumes there.`
			: status === 'cancelled'
				? `Cancelled at page ${ended.atPage}; the next run resumes there.`
				: syncError.message;
	let finished: FinishResult | undefined;
	if (run.runId !== null && !lease.lost) {
		const runId = run.runId;
		finished = await database.db
			.run(() =>
				database.store.finish(runId, {
					status,
					message: `${message}${syncError.hint && status === 'failed' ? ` ${syncError.hint}` : ''}`,
					errorClass: syncError.errorClass === 'cancelled' ? null : syncError.errorClass,
					stats: tally.logIncrements(),
					complete: false,
				}),
			)
			// The run's own error stays the result; the finish's is kept beside it (the claim's lease
			// then runs out and the next run takes the segment over).
			.catch((finishError: unknown) => {
				tally.keepError(fromStoreError(finishError).toJSON());
				return undefined;
			});
	}
	if (finished) tally.adoptDatabaseStats(finished);
	return runResult(run, tally, { status, message, error: syncError.toJSON(), nextExecution: finished?.next_execution ?? null });
}

/** The walk ended (the whole segment, or as much as the server allowed): close the run. */
export async function finishWalked(
	run: RunIdentity,
	outcome: WalkOutcome,
	database: { store: Pick<SyncStore, 'finish'>; db: DatabaseCalls },
	tally: RunTally,
): Promise<SegmentSyncResult> {
	const { complete, incompleteReason } = outcome;
	const stats = tally.stats;
	stats.leadsSeen = tally.leadsSeenOnce();
	const status: Exclude<RunStatus, 'skipped'> = stats.failed > 0 || incompleteReason ? 'partial' : 'success';
	if (run.dryRun || run.runId === null) {
		const summary = `Dry run: ${stats.leadsSeen} leads seen; would insert ${stats.inserted}, update ${stats.updated}, leave ${stats.unchanged} unchanged; ${stats.detailCalls} detail calls made; ${stats.deleted} deleted in SprintHub. Nothing was written.`;
		return runResult(run, tally, { status, message: incompleteReason ? `${summary} ${incompleteReason}` : summary, complete });
	}
	const runId = run.runId;
	// Once per segment however many walks it took, so the message says what the stats say.
	stats.unchanged = tally.unchangedOnce();
	let finished: FinishResult;
	try {
		finished = await database.db.run(() =>
			database.store.finish(runId, {
				status,
				message: tally.summary(incompleteReason),
				errorClass: incompleteReason ? 'transient' : stats.failed > 0 ? 'data' : null,
				stats: tally.logIncrements(),
				complete,
				walk: complete ? outcome.walk : null,
			}),
		);
	} catch (error) {
		const syncError = fromStoreError(error);
		return runResult(run, tally, { status: 'failed', message: syncError.message, error: syncError.toJSON() });
	}
	tally.adoptDatabaseStats(finished);
	return runResult(run, tally, {
		status: finished.status === 'skipped' ? 'skipped' : (finished.status as RunStatus),
		// The log row's figure, so the result, the log and the health view agree.
		successRate: finished.success_rate === null || finished.success_rate === undefined ? tally.successRate() : Number(finished.success_rate),
		message: finished.message ?? tally.summary(incompleteReason),
		left: finished.left,
		leftBlocked: finished.left_blocked,
		leaversPending: finished.leavers_pending ?? 0,
		complete,
		nextExecution: finished.next_execution,
	});
}
