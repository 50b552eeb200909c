/**
 * sync <segmentId…> and sync-due: check the database, then SprintHub, then run the segments with
 * progress on stderr and one summary per segment (or JSON) on stdout.
 */
import type { SegmentSyncResult, SyncEngine, SyncRunOptions } from '../../engine';
import { EXIT, UsageError, type ExitCode } from '../errors';
import { formatDuration, formatNumber, relativeTime, type Output } from '../output';
import { createReporter } from '../progress';
import { enrichmentFlag, numberFlag, parseSegmentIds, progressFlag } from './arguments';
import { checkSprintHub, PreflightFailure, withEngine } from './connections';
import type { CommandContext } from './context';

export async function runSync(context: CommandContext, mode: 'named' | 'due'): Promise<number> {
	const { flags, output, args, signal } = context;
	if (mode === 'named' && args.length === 0) throw new UsageError('Name at least one segment: sprinthub-sync sync <segmentId…> (e.g. sync 123 456).');
	if (mode === 'due' && args.length > 0) throw new UsageError('sync-due takes no segment ids (it takes the due ones); use "sync <segmentId…>" for named segments.');
	const ids = [...new Set(parseSegmentIds(args))];
	const rate = numberFlag(flags, 'rate', { min: 1, max: 1_000_000 });
	const patience = numberFlag(flags, 'patience', { min: 1, max: 86_400 });
	const batchSize = numberFlag(flags, 'batch-size', { integer: true, min: 1, max: 10_000 });
	const databasePatience = numberFlag(flags, 'db-patience', { min: 1, max: 3_600 });
	const runOptions: SyncRunOptions = {
		trigger: 'cli',
		enrichment: enrichmentFlag(flags),
		fullRefresh: flags['full-refresh'] === true,
		dryRun: flags['dry-run'] === true,
		detailConcurrency: numberFlag(flags, 'concurrency', { integer: true, min: 1, max: 64 }),
		pageSize: numberFlag(flags, 'page-size', { integer: true, min: 1, max: 1000 }),
		parallel: numberFlag(flags, 'parallel', { integer: true, min: 1, max: 16 }),
		batch: batchSize ? { maxRows: batchSize, maxBytes: 1_000_000 } : undefined,
		databasePatienceMs: databasePatience ? databasePatience * 1000 : undefined,
		signal,
	};
	const maxSegments = numberFlag(flags, 'max-segments', { integer: true, min: 1, max: 1000 });
	const progressMode = progressFlag(flags);

	return withEngine(context, { sprinthub: 'required', rate, patienceMs: patience ? patience * 1000 : undefined }, async ({ engine, sprinthub }) => {
		// Database first: a wrong key or missing migrations should not cost a SprintHub call.
		const control = await engine.store.listControl(mode === 'named' ? ids : undefined);
		if (mode === 'named') {
			const registered = new Set(control.map((row) => Number(row.segment_id)));
			const unknown = ids.filter((id) => !registered.has(id));
			if (unknown.length > 0) {
				throw new UsageError(
					`Segment${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not registered: add ${unknown.length > 1 ? 'them' : 'it'} with "sprinthub-sync segments add ${unknown.join(' ')}".`,
				);
			}
		}
		try {
			await checkSprintHub(engine.sprintHub(), sprinthub!, context);
		} catch (error) {
			if (error instanceof PreflightFailure) await recordPreflightFailure(engine, mode === 'named' ? ids : null, maxSegments, error);
			throw error;
		}
		if (signal.aborted) return EXIT.cancelled;

		const reporter = createReporter(output, progressMode);
		let results: SegmentSyncResult[];
		try {
			results =
				mode === 'named'
					? await engine.syncSegments(ids, { ...runOptions, onProgress: (event) => reporter.onProgress(event) })
					: await engine.syncDue({ ...runOptions, maxSegments, onProgress: (event) => reporter.onProgress(event) });
		} finally {
			reporter.stop();
		}
		const exitCode = exitCodeFor(results, signal.aborted);
		if (flags.json) {
			output.json({ exitCode, outcome: outcomeOf(exitCode), results });
		} else if (results.length === 0) {
			output.line('No segment is due.');
		} else {
			printResults(output, results);
		}
		return exitCode;
	});
}

/**
 * A pre-flight that kept failing is a failed run of every segment the run was for (the named ones, or
 * the due ones), in sync_segments_logs like any other, so health checks and alerts see it.
 */
async function recordPreflightFailure(engine: SyncEngine, ids: number[] | null, maxSegments: number | undefined, failure: PreflightFailure): Promise<void> {
	const claimed = await engine.store
		.claim({ worker: engine.worker, trigger: 'cli', ...(ids ? { segmentIds: ids } : { limit: maxSegments ?? 10 }) })
		.catch(() => []);
	for (const row of claimed) {
		if (row.outcome !== 'claimed' || !row.run_id) continue;
		await engine.store
			.finish(row.run_id, { status: 'failed', errorClass: failure.failure.errorClass === 'configuration' ? 'configuration' : 'transient', message: `Pre-flight: ${failure.message}` })
			.catch(() => undefined);
	}
}

/** 0 success, 1 failure, 2 configuration, 3 partial or rate limited, 130 cancelled. */
export function exitCodeFor(results: SegmentSyncResult[], cancelled: boolean): ExitCode {
	if (cancelled || results.some((result) => result.status === 'cancelled')) return EXIT.cancelled;
	const failed = results.filter((result) => result.status === 'failed');
	if (failed.some((result) => result.error?.errorClass !== 'configuration')) return EXIT.failure;
	if (failed.length > 0) return EXIT.usage;
	if (results.some((result) => result.status === 'partial' || result.status === 'rate_limited')) return EXIT.partial;
	return EXIT.success;
}

function outcomeOf(exitCode: ExitCode): string {
	switch (exitCode) {
		case EXIT.success:
			return 'success';
		case EXIT.partial:
			return 'partial';
		case EXIT.cancelled:
			return 'cancelled';
		case EXIT.usage:
			return 'configuration';
		default:
			return 'failed';
	}
}

function printResults(output: Output, results: SegmentSyncResult[]): void {
	for (const result of results) {
		const s = result.stats;
		const name = result.segmentName ? ` "${result.segmentName}"` : '';
		output.line(`Segment ${result.segmentId}${name}: ${result.status}${result.dryRun ? ' (dry run)' : ''} in ${formatDuration(result.durationMs)}`);
		if (result.status !== 'skipped' && !(result.status === 'failed' && s.pages === 0)) {
			output.line(
				`  ${formatNumber(s.leadsSeen)} leads seen: ${formatNumber(s.inserted)} new, ${formatNumber(s.updated)} updated, ${formatNumber(s.unchanged)} unchanged` +
					` · ${formatNumber(s.detailCalls)} detail calls · ${formatNumber(result.left)} left the segment` +
					(s.deleted ? ` · ${formatNumber(s.deleted)} deleted in SprintHub` : '') +
					(s.failed ? ` · ${formatNumber(s.failed)} quarantined` : ''),
			);
			output.line(
				`  ${formatNumber(s.pages)} pages · ${formatNumber(s.requests)} requests · ${formatNumber(s.throttled)} throttled · ${formatNumber(s.retries)} retries` +
					(result.resumed ? ' · resumed from a checkpoint' : '') +
					(result.nextExecution ? ` · next run ${relativeTime(result.nextExecution)}` : ''),
			);
		}
		if (result.leftBlocked) output.line(`  ${formatNumber(result.leftBlocked)} leavers not marked: too large a share of the segment looked gone (leave guard).`);
		if (result.leaversPending) {
			const pending = result.leaversPending;
			output.line(`  ${formatNumber(pending)} ${pending === 1 ? 'leaver' : 'leavers'} pending confirmation: left while the pages were read; the next run marks them if it misses them too.`);
		}
		if (result.status !== 'success') output.line(`  ${result.message}`);
	}
	if (results.length > 1) {
		const sum = (pick: (result: SegmentSyncResult) => number) => results.reduce((total, result) => total + pick(result), 0);
		const byStatus = new Map<string, number>();
		for (const result of results) byStatus.set(result.status, (byStatus.get(result.status) ?? 0) + 1);
		output.line(
			`${results.length} segments: ${[...byStatus].map(([status, count]) => `${count} ${status}`).join(', ')}` +
				` · ${formatNumber(sum((r) => r.stats.leadsSeen))} leads · ${formatNumber(sum((r) => r.stats.detailCalls))} detail calls` +
				` · ${formatNumber(sum((r) => r.left))} left`,
		);
	}
}
