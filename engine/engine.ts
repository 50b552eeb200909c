/**
 * The engine as the node, the command line and the tests use it: one object that holds the
 * SprintHub account (shared pool and rate budget) and the Supabase project (supabase-js over undici
 * with timeouts), and runs syncs. Plain TypeScript, no n8n imports.
 */
import { hostname } from 'node:os';
import { randomBytes, randomUUID } from 'node:crypto';
import { createUndiciFetch, type UndiciFetch } from './http/undiciFetch';
import { SharedRateBudget, SprintHubClient, accountKey, normalizeBaseUrl, normalizeInstance, type BudgetNotice, type SprintHubAuthMode, type SprintHubEvent } from './sprinthub';
import { SyncStore, type ClaimRow } from './store';
import { mapWithConcurrency } from './sync/concurrency';
import { DatabaseCalls, fromStoreError } from './sync/databaseCalls';
import { releaseDeadLocalLeases } from './sync/deadHolders';
import { DetailShare } from './sync/detailShare';
import type { SegmentSyncResult, SyncProgressEvent } from './sync/ports';
import { syncSegment, type SegmentSyncOptions } from './sync/syncSegment';

export interface SprintHubConnection {
	/** With or without scheme. */
	baseUrl: string;
	instance: string;
	token: string;
	authMode?: SprintHubAuthMode;
	/**
	 * This run's requests per minute. The account's budget is shared through the database by every
	 * process syncing into it; when the account has a rate set there (sync_account_budgets), this can
	 * only lower it for this process. Not given: the account's rate, or 80 while none is set.
	 */
	requestsPerMinute?: number;
	/**
	 * The account-wide budget in the database (default on). `false` keeps the budget in this process
	 * only (as before the shared budget existed). `fallbackShare`: the share of the account's rate this
	 * process uses alone while the database cannot be reached (default 0.25).
	 */
	sharedBudget?: boolean | { fallbackShare?: number; retryDatabaseMs?: number; callTimeoutMs?: number; leaseTtlMs?: number; horizonMs?: number };
	/** How long a run waits out throttling before it checkpoints and ends rate_limited. Default 10 min. */
	patienceMs?: number;
	/** Network deadlines of every SprintHub call (defaults: connect 10 s, headers 30 s, body 60 s, whole call 120 s). */
	timeouts?: { connectMs?: number; headersMs?: number; bodyMs?: number; requestMs?: number };
	/** Retries of transient failures (defaults: 6 attempts, full-jitter backoff from 500 ms up to 30 s). */
	retry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number };
	/** How the account's budget reacts to throttling (used when this process first creates the budget). */
	throttle?: { backoffBaseMs?: number; backoffMaxMs?: number };
}

export interface SupabaseConnection {
	/** Project URL, e.g. https://abcd.supabase.co */
	url: string;
	serviceRoleKey: string;
	/** Schema holding the sync tables (exposed in the Data API). Default public. */
	schema?: string;
}

export interface SyncEngineOptions {
	sprinthub: SprintHubConnection;
	supabase: SupabaseConnection;
	/** Names this process in leases and logs. Default host:pid:random. */
	worker?: string;
}

/** The shared budget changed mode: the database cannot be reached (fallback), or answers again. */
export interface BudgetProgressEvent {
	type: 'budget';
	segmentId: number;
	mode: BudgetNotice['mode'];
	requestsPerMinute: number;
	message: string;
}

export type EngineProgressEvent = SyncProgressEvent | BudgetProgressEvent;

export type SyncRunOptions = Omit<SegmentSyncOptions, 'segmentId' | 'worker' | 'claimed' | 'clientStats' | 'onProgress'> & {
	/** Segments synced at once (they share the account's rate budget). Default 2. */
	parallel?: number;
	onProgress?: (event: EngineProgressEvent) => void;
};

export class SyncEngine {
	readonly store: SyncStore;
	readonly worker: string;
	private readonly options: SyncEngineOptions;
	private readonly http: UndiciFetch;
	private budget?: SharedRateBudget;
	private closing?: Promise<void>;
	/** The runs going on now, told when the shared budget changes mode. */
	private readonly listeners = new Set<(notice: BudgetNotice) => void>();

	constructor(options: SyncEngineOptions) {
		this.options = options;
		this.worker = options.worker ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
		this.http = createUndiciFetch();
		this.store = SyncStore.connect({
			url: normalizeSupabaseUrl(options.supabase.url),
			serviceRoleKey: options.supabase.serviceRoleKey,
			schema: options.supabase.schema,
			fetch: this.http.fetch,
		});
	}

	/**
	 * The account's budget shared through the database, made on first use; undefined when the engine
	 * was told to keep its budget in the process.
	 */
	sharedBudget(): SharedRateBudget | undefined {
		const s = this.options.sprinthub;
		if (s.sharedBudget === false) return undefined;
		if (!this.budget) {
			const settings = typeof s.sharedBudget === 'object' ? s.sharedBudget : {};
			this.budget = new SharedRateBudget({
				store: this.store,
				account: budgetAccount(s.baseUrl, s.instance),
				requestsPerMinute: s.requestsPerMinute,
				patienceMs: s.patienceMs,
				throttleBackoffBaseMs: s.throttle?.backoffBaseMs,
				throttleBackoffMaxMs: s.throttle?.backoffMaxMs,
				fallbackShare: settings.fallbackShare,
				retryDatabaseMs: settings.retryDatabaseMs,
				callTimeoutMs: settings.callTimeoutMs,
				leaseTtlMs: settings.leaseTtlMs,
				horizonMs: settings.horizonMs,
				onNotice: (notice) => {
					for (const listener of this.listeners) listener(notice);
				},
			});
		}
		return this.budget;
	}

	/** Where this engine reads and writes, without secrets: SprintHub account, database, schema. */
	get scope(): string {
		const { sprinthub, supabase } = this.options;
		return [budgetAccount(sprinthub.baseUrl, sprinthub.instance).key, normalizeSupabaseUrl(supabase.url), supabase.schema ?? 'public'].join('|');
	}

	/** A SprintHub client; cheap, one per run, sharing the account's pool and budget. */
	sprintHub(onEvent?: (event: SprintHubEvent) => void): SprintHubClient {
		const s = this.options.sprinthub;
		return new SprintHubClient({
			budget: this.sharedBudget(),
			baseUrl: s.baseUrl,
			instance: s.instance,
			token: s.token,
			authMode: s.authMode,
			requestsPerMinute: s.requestsPerMinute,
			patienceMs: s.patienceMs,
			connectTimeoutMs: s.timeouts?.connectMs,
			headersTimeoutMs: s.timeouts?.headersMs,
			bodyTimeoutMs: s.timeouts?.bodyMs,
			requestTimeoutMs: s.timeouts?.requestMs,
			maxAttempts: s.retry?.maxAttempts,
			retryBaseDelayMs: s.retry?.baseDelayMs,
			retryMaxDelayMs: s.retry?.maxDelayMs,
			budgetOptions: s.throttle
				? { throttleBackoffBaseMs: s.throttle.backoffBaseMs, throttleBackoffMaxMs: s.throttle.backoffMaxMs }
				: undefined,
			onEvent,
		});
	}

	/** Syncs the named segments now (manual or CLI runs), several at once under one budget. */
	async syncSegments(segmentIds: number[], options: SyncRunOptions): Promise<SegmentSyncResult[]> {
		const share = new DetailShare();
		// After a cancel no further segment is started (the ones running record `cancelled`).
		return mapWithConcurrency(segmentIds, options.parallel ?? 2, (segmentId) => this.runOne(segmentId, options, share), options.signal);
	}

	/**
	 * Claims the segments whose time has come and syncs them (the scheduled path). Each free slot
	 * claims one segment when it starts it, so no claimed segment waits in a queue while its lease
	 * runs out (another worker would take it over and this one would fail on it later).
	 */
	async syncDue(options: SyncRunOptions & { maxSegments?: number }): Promise<SegmentSyncResult[]> {
		const share = new DetailShare();
		const maxSegments = options.maxSegments ?? 10;
		const results: SegmentSyncResult[] = [];
		let started = 0;
		let nothingDue = false;
		let claimFailure: { error: unknown } | undefined;
		// Claims ride out the database's bad minutes; each keeps one request id across its retries.
		const db = new DatabaseCalls(options.signal ?? new AbortController().signal, options.databasePatienceMs);
		// Due segments whose lease a dead process of this host still holds become claimable now.
		await db
			.run(async () => releaseDeadLocalLeases(this.store, (await this.store.listControl()).filter((row) => row.lease_run_id !== null)))
			.catch(() => undefined);
		const slot = async () => {
			while (!nothingDue && !claimFailure && started < maxSegments && !options.signal?.aborted) {
				started += 1;
				const requestId = randomUUID();
				let rows: ClaimRow[];
				try {
					rows = await db.run(() => this.store.claim({ worker: this.worker, limit: 1, trigger: options.trigger, requestId }));
				} catch (error) {
					// No further claims; the runs other slots hold finish before this call returns.
					claimFailure = { error };
					return;
				}
				const row = rows.find((candidate) => candidate.outcome === 'claimed');
				if (!row) {
					nothingDue = true;
					return;
				}
				results.push(await this.runOne(row.segment_id, options, share, row));
			}
		};
		await Promise.all(Array.from({ length: Math.max(1, options.parallel ?? 2) }, slot));
		// Housekeeping, at most once a day; a failure here (e.g. migrations older than sync_prune)
		// never fails the runs, which are recorded already, and the next Sync Due tries again.
		await this.store.prune({ onlyIfDue: true }).catch(() => undefined);
		// The runs already done are in the log; the caller must still learn that claiming failed.
		if (claimFailure) throw fromStoreError(claimFailure.error);
		return results.sort((a, b) => a.segmentId - b.segmentId);
	}

	private async runOne(segmentId: number, options: SyncRunOptions, detailShare: DetailShare, claimed?: Parameters<typeof syncSegment>[1]['claimed']) {
		const progress = options.onProgress;
		const client = this.sprintHub((event) => {
			if (!progress) return;
			if (event.type === 'throttled') progress({ type: 'throttled', segmentId, waitMs: event.waitMs, requestsPerMinute: event.requestsPerMinute });
			else if (event.type === 'retry') progress({ type: 'retry', segmentId, attempt: event.attempt, message: event.message });
		});
		const listener = (notice: BudgetNotice) => progress?.({ type: 'budget', segmentId, ...notice });
		this.listeners.add(listener);
		if (this.budget?.fallingBack) listener({ mode: 'fallback', requestsPerMinute: this.budget.currentRequestsPerMinute, message: 'The shared SprintHub budget in the database cannot be reached; this process goes on alone at a conservative share.' });
		try {
			return await this.runSegment(segmentId, options, detailShare, client, claimed);
		} finally {
			this.listeners.delete(listener);
		}
	}

	private runSegment(
		segmentId: number,
		options: SyncRunOptions,
		detailShare: DetailShare,
		client: SprintHubClient,
		claimed?: Parameters<typeof syncSegment>[1]['claimed'],
	): Promise<SegmentSyncResult> {
		const progress = options.onProgress;
		return syncSegment(
			// Segments synced together share detail calls for leads they have in common.
			{ source: client, store: this.store, detailShare },
			{
				...options,
				segmentId,
				worker: this.worker,
				claimed,
				clientStats: () => client.stats(),
				onProgress: progress as ((event: SyncProgressEvent) => void) | undefined,
			},
		);
	}

	/** Closes this engine's database sockets (the SprintHub pools are per process: closeSprintHubAccounts). */
	close(): Promise<void> {
		// Once: a second close (e.g. a test world's after a run's own) must not close the agent again.
		this.closing ??= (async () => {
			await this.budget?.releaseUnspent();
			this.budget?.close();
			await this.http.close();
		})();
		return this.closing;
	}
}

/** The account as the shared budget names it: base URL and instance, never the token. */
export function budgetAccount(baseUrl: string, instance: string): { key: string; baseUrl: string; instance: string } {
	return { key: accountKey(baseUrl, instance), baseUrl: normalizeBaseUrl(baseUrl).display, instance: normalizeInstance(instance) };
}

/** Users paste the project URL with or without scheme, sometimes with /rest/v1 or a trailing slash. */
function normalizeSupabaseUrl(input: string): string {
	let url = String(input ?? '').trim();
	if (!url) throw new Error('The Supabase URL is empty: use the project URL, e.g. https://abcd.supabase.co');
	if (!/^https?:\/\//i.test(url)) url = `https://${url}`;
	const problem = supabaseUrlProblem(url);
	if (problem) throw new Error(problem);
	return url.replace(/\/+$/, '').replace(/\/rest\/v1$/i, '');
}

/** Why a Supabase project URL cannot be used (spaces, no host), or null. */
export function supabaseUrlProblem(input: string): string | null {
	const url = /^https?:\/\//i.test(input.trim()) ? input.trim() : `https://${input.trim()}`;
	let host = '';
	try {
		host = new URL(url).hostname;
	} catch {
		// reported below
	}
	if (!host || /\s/.test(input.trim())) return `"${input.trim().slice(0, 80)}" is not a Supabase project URL: use the project URL, e.g. https://abcd.supabase.co`;
	return null;
}
