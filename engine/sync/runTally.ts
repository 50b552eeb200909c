/**
 * What a run counts and reports while it runs: the run's statistics, the errors it met (redacted,
 * bounded) and its progress events. A segment walked more than once (it moved, or leavers were
 * confirmed) is still one segment: leads seen and unchanged are counted per walk, the largest wins.
 */
import type { SyncErrorJson } from '../errors';
import type { FinishResult } from '../store';
import type { RunStats, SyncProgressEvent } from './ports';

const MAX_ERRORS_KEPT = 20;

/** Counters the SprintHub client keeps (requests, throttled responses, retries, backoff). */
export type ClientCounters = { requests: number; throttled: number; retries: number; backoffMs: number };

export class RunTally {
	readonly stats: RunStats = {
		pages: 0,
		walks: 0,
		requests: 0,
		throttled: 0,
		retries: 0,
		backoffMs: 0,
		leadsSeen: 0,
		detailCalls: 0,
		inserted: 0,
		updated: 0,
		unchanged: 0,
		joined: 0,
		deleted: 0,
		left: 0,
		failed: 0,
		databaseRetries: 0,
	};
	/** Up to 20 errors met, for the result. */
	readonly errors: SyncErrorJson[] = [];
	/** Leads received by the current walk, and the most any walk of this run received. */
	private walkReceived = 0;
	private mostInOneWalk = 0;
	/** Valid leads whose page was fully handled, per walk (a page stopped half-way does not count). */
	private walkHandled = 0;
	private mostHandledInOneWalk = 0;
	/** Leads whose detail could not be fetched (written as membership only), once each however many walks. */
	private readonly fetchFailedIds = new Set<number>();

	constructor(
		private readonly onProgress?: (event: SyncProgressEvent) => void,
		private readonly clientCounters?: () => ClientCounters,
	) {}

	emit(event: SyncProgressEvent): void {
		try {
			this.onProgress?.(event);
		} catch {
			// A progress display must never break a sync.
		}
	}

	keepError(error: SyncErrorJson): void {
		if (this.errors.length < MAX_ERRORS_KEPT) this.errors.push(error);
	}

	startWalk(): void {
		this.stats.walks += 1;
		this.walkReceived = 0;
		this.walkHandled = 0;
	}

	/** A list page was read (an empty one too). */
	pageRead(): void {
		this.stats.pages += 1;
	}

	/** A page's leads were accepted into the walk. */
	pageReceived(leads: number): void {
		this.stats.leadsSeen += leads;
		this.walkReceived += leads;
	}

	pageHandled(leads: number): void {
		this.walkHandled += leads;
	}

	endWalk(): void {
		this.mostInOneWalk = Math.max(this.mostInOneWalk, this.walkReceived);
		this.mostHandledInOneWalk = Math.max(this.mostHandledInOneWalk, this.walkHandled);
	}

	/** A record of a page that cannot be used (no valid id): counted as failed. */
	recordFailed(error: SyncErrorJson): void {
		this.stats.failed += 1;
		this.keepError(error);
	}

	/** A lead whose detail could not be fetched: quarantined, counted once as failed, not as unchanged. */
	fetchFailed(leadId: number, error: SyncErrorJson): void {
		if (this.fetchFailedIds.has(leadId)) return;
		this.fetchFailedIds.add(leadId);
		this.stats.failed += 1;
		this.keepError(error);
	}

	/**
	 * Leads written with a detail record: a fetch failure of this run for one of them is no longer a
	 * failure (the write resolved its quarantine, and the log row's `failed` went down with it).
	 */
	detailsWritten(writes: ReadonlyArray<{ id?: unknown; enriched?: boolean }>): void {
		if (this.fetchFailedIds.size === 0) return;
		for (const write of writes) {
			if (write.enriched && this.fetchFailedIds.delete(Number(write.id))) this.stats.failed -= 1;
		}
	}

	/** Leads of the segment, once (the largest walk). */
	leadsSeenOnce(): number {
		return Math.max(this.mostInOneWalk, this.walkReceived);
	}

	/** Handled leads that were not new, updated, deleted or failed. */
	unchangedOnce(): number {
		const s = this.stats;
		return Math.max(0, Math.max(this.mostHandledInOneWalk, this.walkHandled) - s.inserted - s.updated - s.deleted - this.fetchFailedIds.size);
	}

	/** Counters only the engine knows, sent to the run's log row as increments. */
	logIncrements() {
		const client = this.clientCounters?.();
		const s = this.stats;
		return {
			requests: client?.requests ?? s.requests,
			throttled: client?.throttled ?? s.throttled,
			retries: client?.retries ?? s.retries,
			backoff_ms: client?.backoffMs ?? s.backoffMs,
			detail_calls: s.detailCalls,
			database_retries: s.databaseRetries,
			walks: s.walks,
			deleted: s.deleted,
			// Per segment, not per walk: the database adds every page it is sent, and a segment walked
			// twice (moving, or confirming leavers) sends its pages twice.
			leads_seen: this.leadsSeenOnce(),
			unchanged: this.unchangedOnce(),
		};
	}

	/** The run's log row is the truth for what was written (it also counts resumed pages once). */
	adoptDatabaseStats(finished: FinishResult): void {
		const db = finished.stats ?? {};
		const take = (key: keyof RunStats, value: unknown) => {
			if (typeof value === 'number' && Number.isFinite(value)) this.stats[key] = value;
		};
		// pages stays the engine's count of list pages read: the log row counts written batches.
		take('inserted', db.inserted);
		take('updated', db.updated);
		// The database counts as unchanged only records it compared; leads that needed no rewrite
		// (membership only) are unchanged too: whatever was not new, updated, deleted or failed.
		this.stats.leadsSeen = this.leadsSeenOnce();
		this.stats.unchanged = this.unchangedOnce();
		take('joined', db.joined);
		take('left', db.left);
		if (typeof db.failed === 'number') this.stats.failed = Math.max(this.stats.failed, db.failed);
	}

	/** The client's counters replace the engine's own (only those a run reports). */
	adoptClientCounters(): void {
		const client = this.clientCounters?.();
		if (!client) return;
		this.stats.requests = client.requests;
		this.stats.throttled = client.throttled;
		this.stats.retries = client.retries;
		this.stats.backoffMs = client.backoffMs;
	}

	/** Percent of the leads seen that were stored without a problem. */
	successRate(): number | null {
		const s = this.stats;
		return s.leadsSeen > 0 ? Math.round(((s.leadsSeen - s.failed) / s.leadsSeen) * 100 * 100) / 100 : null;
	}

	/** The run's message when it ended normally. */
	summary(extra: string): string {
		const s = this.stats;
		const parts = [`${s.leadsSeen} leads seen`, `${s.inserted} new`, `${s.updated} updated`, `${s.unchanged} unchanged`, `${s.detailCalls} detail calls`];
		if (s.deleted) parts.push(`${s.deleted} deleted in SprintHub`);
		if (s.failed) parts.push(`${s.failed} quarantined`);
		return `${parts.join(', ')}.${extra ? ` ${extra}` : ''}`;
	}
}
