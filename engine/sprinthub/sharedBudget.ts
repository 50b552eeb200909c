/**
 * One SprintHub rate budget per account for every process that syncs into the same database (n8n
 * main, queue-mode workers, the command line): a token bucket row in the database, taken through an
 * RPC as reservations, so the database is not called once per SprintHub call.
 *
 * - Reservations (virtual scheduling, as GCRA): one take asks for several slots; the database grants
 *   those due now plus future slots spaced at the account's rate, up to `horizonMs` ahead, and deducts
 *   them at once (the bucket may go into a deficit of at most the horizon). This process spends them at
 *   their times. A slot is spent when granted: one that dies with slots only wastes them (the account
 *   goes slower for up to the horizon, never faster). At most `leaseTtlMs` worth of due slots is kept
 *   unused (older ones are dropped), so slots left over from a pause cannot all go out at once.
 * - Throttles are shared: a 401 "too many requests" or 429 pauses this process at once, drops its
 *   unspent slots and is reported to the database, which pauses every process and halves the account's
 *   rate; the others learn it at their next take, at most `horizonMs` later. Successes reported with
 *   later takes bring the rate back (the adaptive behaviour of `RateBudget`, account-wide).
 * - Per-run cap: `requestsPerMinute` is this run's own rate; it can only lower the account's.
 * - Database unreachable (or a call slower than `callTimeoutMs`): this process falls back to a local
 *   `RateBudget` at a conservative share of the account's rate, says so through `onNotice`, and tries
 *   the database again every `retryDatabaseMs`. A run is never blocked on the database.
 */
import { type SyncError, cancelledError } from '../errors';
import type { AccountBudget } from './accountBudget';
import { BudgetWaiters, WakeTimer, patienceExhaustedError } from './budgetWaiters';
import { type Clock, systemClock } from './clock';
import type { BudgetAccount, BudgetAnswer, BudgetNotice, BudgetStore } from './budgetStore';
import { ReservedSlots } from './reservedSlots';
import { type AcquireOptions, type BudgetTicket, RateBudget, type RateBudgetStats, positive } from './rateBudget';

export type { BudgetAccount, BudgetAnswer, BudgetNotice, BudgetStore } from './budgetStore';

export interface SharedRateBudgetOptions {
	store: BudgetStore;
	account: BudgetAccount;
	/**
	 * This run's rate: used as the account's while none is set there (default 80), and, when given, never
	 * exceeded by this process (it can only lower the account's rate).
	 */
	requestsPerMinute?: number;
	/** At most this long's worth of due slots is kept unused; older ones are dropped. Default 1 s. */
	leaseTtlMs?: number;
	/** How far ahead one take may reserve slots. Default 5 s: about 6 calls at 80 a minute. */
	horizonMs?: number;
	/** The fewest slots a take asks for (the horizon may grant fewer). Default 4. */
	minReservation?: number;
	/** A database call slower than this counts as unreachable. Default 5 s. */
	callTimeoutMs?: number;
	/** While the database is unreachable, this process uses this share of the account's rate. Default 0.25. */
	fallbackShare?: number;
	/** How often the database is tried again while falling back. Default 30 s. */
	retryDatabaseMs?: number;
	/** Backoff after a throttle without Retry-After (the database applies it). Defaults 5 s and 120 s. */
	throttleBackoffBaseMs?: number;
	throttleBackoffMaxMs?: number;
	/** How long throttling may last before waiters give up. Default 10 minutes. */
	patienceMs?: number;
	/** Shortest wait before asking the database again after it granted nothing. Default 20 ms. */
	minPollMs?: number;
	clock?: Clock;
	onNotice?: (notice: BudgetNotice) => void;
}

type SharedTicket = BudgetTicket & { epoch?: number | null; fallback?: BudgetTicket };

export class SharedRateBudget implements AccountBudget {
	private readonly store: BudgetStore;
	private readonly account: BudgetAccount;
	/** The rate asked for this run; used as the account's while none is set there (default 80). */
	private readonly runRate: number;
	/** This run's own ceiling: its rate when one was given, else none (the account's rate rules). */
	private readonly runCap: number;
	private readonly leaseTtlMs: number;
	private readonly horizonMs: number;
	private readonly minReservation: number;
	private readonly callTimeoutMs: number;
	private readonly fallbackShare: number;
	private readonly retryDatabaseMs: number;
	private readonly backoffBaseMs: number;
	private readonly backoffMaxMs: number;
	private readonly patienceMs: number;
	private readonly minPollMs: number;
	private readonly clock: Clock;
	private readonly onNotice?: (notice: BudgetNotice) => void;

	private configured: number;
	private current: number;
	private epoch: number | null = null;
	private readonly slots = new ReservedSlots();
	/** Since when nobody has waited while this process held slots. */
	private idleSince: number | null = null;
	private idleCheckPending = false;
	/** How long the last take took to answer. */
	private takeRoundTripMs = 1_000;
	private readonly closing = new AbortController();
	private pausedUntil = 0;
	private episodeStart: number | null = null;
	private nextTakeAt = 0;
	private localNextAt = 0;
	private successes = 0;
	private taking = false;
	/** Grant times within the last horizon: how fast this process uses slots. */
	private recentGrants: number[] = [];
	/** The epoch this process already slowed down for (before the database answered). */
	private reactedEpoch: number | null | undefined = undefined;
	private closed = false;
	private readonly queue: BudgetWaiters;
	private readonly timer: WakeTimer;
	private readonly inFlight = new Set<AbortController>();
	/** Set while the database cannot be reached. */
	private fallback: RateBudget | null = null;
	private fallbackSince = 0;
	private nextSeq = 1;
	private readonly counters = { granted: 0, throttled: 0, rateDecreases: 0, waitMs: 0, pausedMs: 0, patienceExhausted: 0, takes: 0, fallbacks: 0 };

	constructor(options: SharedRateBudgetOptions) {
		this.store = options.store;
		this.account = options.account;
		this.runRate = positive(options.requestsPerMinute, 80, 'requestsPerMinute');
		this.runCap = options.requestsPerMinute === undefined ? Number.POSITIVE_INFINITY : this.runRate;
		this.leaseTtlMs = positive(options.leaseTtlMs, 1_000, 'leaseTtlMs');
		this.horizonMs = positive(options.horizonMs, 5_000, 'horizonMs');
		if (this.horizonMs < 100 || this.horizonMs > 60_000) throw new RangeError(`horizonMs must be from 100 to 60000, got ${this.horizonMs}`);
		this.minReservation = Math.ceil(positive(options.minReservation, 4, 'minReservation'));
		this.callTimeoutMs = positive(options.callTimeoutMs, 5_000, 'callTimeoutMs');
		this.fallbackShare = positive(options.fallbackShare, 0.25, 'fallbackShare');
		this.retryDatabaseMs = positive(options.retryDatabaseMs, 30_000, 'retryDatabaseMs');
		this.backoffBaseMs = positive(options.throttleBackoffBaseMs, 5_000, 'throttleBackoffBaseMs');
		this.backoffMaxMs = positive(options.throttleBackoffMaxMs, 120_000, 'throttleBackoffMaxMs');
		this.patienceMs = positive(options.patienceMs, 10 * 60_000, 'patienceMs');
		this.minPollMs = positive(options.minPollMs, 20, 'minPollMs');
		this.clock = options.clock ?? systemClock;
		this.onNotice = options.onNotice;
		this.configured = this.runRate;
		this.current = this.runRate;
		this.queue = new BudgetWaiters(this.clock, {
			onCancelled: (waitedMs) => {
				this.counters.waitMs += waitedMs;
			},
			onChange: () => this.pump(),
		});
		this.timer = new WakeTimer(this.clock, () => this.pump());
	}

	/** This process's ceiling: the account's current rate, never above this run's own rate. */
	get configuredRequestsPerMinute(): number {
		return Math.min(this.configured, this.runCap);
	}

	get currentRequestsPerMinute(): number {
		return this.fallback ? this.fallback.currentRequestsPerMinute : Math.min(this.current, this.runCap);
	}

	/** True while the database cannot be reached and this process runs on its fallback share. */
	get fallingBack(): boolean {
		return this.fallback !== null;
	}

	acquire(signal?: AbortSignal, options: AcquireOptions = {}): Promise<BudgetTicket> {
		if (signal?.aborted || this.closed) return Promise.reject(cancelledError('Waiting for the SprintHub rate budget'));
		if (this.fallback) {
			this.probeDatabase();
			if (this.fallback) return this.fallback.acquire(signal, options).then((ticket) => this.wrapFallback(ticket));
		}
		return this.queue.enqueue(signal, { patienceMs: options.patienceMs ?? this.patienceMs, patienceFrom: options.patienceFrom ?? 0 });
	}

	reportSuccess(ticket: BudgetTicket): void {
		const shared = ticket as SharedTicket;
		if (shared.fallback) return this.fallback?.reportSuccess(shared.fallback);
		if (shared.epoch !== this.epoch) return; // sent before the last slow-down; says nothing new
		this.successes++;
		this.episodeStart = null;
		if (this.current < this.configured) this.current = Math.min(this.configured, this.current + this.configured / 40);
	}

	reportThrottle(ticket: BudgetTicket, retryAfterMs?: number): number {
		const shared = ticket as SharedTicket;
		if (shared.fallback) return this.fallback?.reportThrottle(shared.fallback, retryAfterMs) ?? 0;
		const now = this.clock.now();
		this.counters.throttled++;
		const validRetryAfter = retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs >= 0 ? Math.round(retryAfterMs) : undefined;
		// Hold back at once, before the database answers: no more calls from this process's reservation.
		this.slots.dropAll();
		this.episodeStart ??= now;
		if (shared.epoch === this.epoch && this.reactedEpoch !== this.epoch) {
			this.reactedEpoch = this.epoch;
			this.counters.rateDecreases++;
			this.current = Math.max(Math.min(this.configured, Math.max(1, this.configured / 16)), this.current / 2);
		}
		this.extendPause(now, now + (validRetryAfter ?? this.backoffBaseMs / 2));
		this.call((signal) =>
			this.store.reportBudgetThrottle(
				this.account,
				{
					epoch: shared.epoch ?? null,
					retryAfterMs: validRetryAfter,
					requestsPerMinute: this.runRate,
					backoffBaseMs: this.backoffBaseMs,
					backoffMaxMs: this.backoffMaxMs,
				},
				signal,
			),
		).then(
			(answer) => {
				this.apply(answer);
				this.pump();
			},
			(error) => this.enterFallback(error),
		);
		this.pump();
		return Math.max(0, this.pausedUntil - now);
	}

	reportFailure(ticket: BudgetTicket): void {
		const shared = ticket as SharedTicket;
		if (shared.fallback) this.fallback?.reportFailure(shared.fallback);
	}

	stats(): RateBudgetStats & { takes: number; fallbacks: number; fallingBack: boolean; slotsReserved: number; slotsDropped: number; slotsReleased: number } {
		const now = this.clock.now();
		const fallback = this.fallback?.stats();
		return {
			...this.counters,
			slotsReserved: this.slots.counts.reserved,
			slotsDropped: this.slots.counts.dropped,
			slotsReleased: this.slots.counts.released,
			configuredRequestsPerMinute: this.configuredRequestsPerMinute,
			currentRequestsPerMinute: this.currentRequestsPerMinute,
			pausedUntil: this.pausedUntil > now ? this.pausedUntil : (fallback?.pausedUntil ?? null),
			queued: this.queue.length + (fallback?.queued ?? 0),
			fallingBack: this.fallback !== null,
		};
	}

	close(): void {
		this.closed = true;
		this.closing.abort();
		this.slots.dropAll();
		this.timer.stop();
		for (const controller of this.inFlight) controller.abort();
		this.fallback?.close();
		this.queue.cancelAll();
	}

	private wrapFallback(ticket: BudgetTicket): SharedTicket {
		this.counters.granted++;
		this.counters.waitMs += ticket.waitedMs;
		return { seq: this.nextSeq++, grantedAt: ticket.grantedAt, waitedMs: ticket.waitedMs, fallback: ticket };
	}

	private pump(): void {
		for (;;) {
			if (this.closed) return;
			const head = this.queue.head;
			if (!head) {
				this.timer.stop();
				this.releaseWhenIdle();
				return;
			}
			this.idleSince = null;
			if (this.fallback) {
				// Everyone waiting moves to the fallback budget, in order.
				const waiters = this.queue.takeAll();
				this.timer.stop();
				for (const waiter of waiters) {
					this.fallback
						.acquire(waiter.signal, { patienceMs: waiter.patienceMs, patienceFrom: waiter.patienceFrom })
						.then((ticket) => waiter.resolve(this.wrapFallback(ticket)), (error: SyncError) => waiter.reject(error));
				}
				return;
			}
			const now = this.clock.now();
			if (this.episodeStart !== null && this.pausedUntil > now && this.pausedUntil > Math.max(this.episodeStart, head.patienceFrom) + head.patienceMs) {
				this.queue.shift();
				this.counters.patienceExhausted++;
				this.counters.waitMs += now - head.enqueuedAt;
				head.reject(patienceExhaustedError(now - this.episodeStart, head.patienceMs, this.pausedUntil - now));
				continue;
			}
			// This run's own rate, when lower than the account's, spaces this process's calls.
			const readyAt = Math.max(this.pausedUntil, this.runCap < this.configured ? this.localNextAt : 0);
			if (readyAt > now) {
				this.timer.at(readyAt);
				return;
			}
			this.slots.dropStale(now, Math.max(1, Math.ceil((this.spendingPerMinute / 60_000) * this.leaseTtlMs)));
			// Reserve the next slots before these run out, so calls do not wait on the database.
			if (this.nextTakeAt <= now && this.runningLow(now)) this.take();
			if (this.slots.length === 0) {
				if (!this.taking && this.nextTakeAt > now) this.timer.at(this.nextTakeAt);
				return;
			}
			const slotAt = this.slots.next ?? now;
			if (slotAt > now) {
				this.timer.at(this.nextTakeAt > now && this.runningLow(now) ? Math.min(slotAt, this.nextTakeAt) : slotAt);
				return;
			}
			this.slots.spend();
			this.recentGrants.push(now);
			if (Number.isFinite(this.runCap)) this.localNextAt = Math.max(now, this.localNextAt) + 60_000 / this.runCap;
			this.queue.shift();
			const waitedMs = now - head.enqueuedAt;
			this.counters.granted++;
			this.counters.waitMs += waitedMs;
			const ticket: SharedTicket = { seq: this.nextSeq++, grantedAt: now, waitedMs, epoch: this.epoch };
			head.resolve(ticket);
		}
	}

	/** This process's rate now: the account's current one, never above this run's own. */
	private get spendingPerMinute(): number {
		return Math.min(this.current, this.runCap);
	}

	/** Its last slot is due within a quarter of the horizon, at most 1 s, at least 250 ms: time to reserve more. */
	private runningLow(now: number): boolean {
		// Early enough for the database to answer (three of its last answers' time), and no earlier: what
		// is still held when asking again is room the horizon cannot grant.
		return this.slots.endsBefore(now + Math.min(1_000, this.horizonMs / 4, Math.max(250, 3 * this.takeRoundTripMs)));
	}

	/** Idle for `leaseTtlMs` with slots left (the run ended or waits on something else): give them back. */
	private releaseWhenIdle(): void {
		if (this.slots.length === 0 || this.fallback) return;
		const now = this.clock.now();
		this.idleSince ??= now;
		if (now >= this.idleSince + this.leaseTtlMs) {
			void this.releaseUnspent();
			return;
		}
		// One check at a time, never cancelled (the queue empties between most grants of a busy run).
		if (this.idleCheckPending) return;
		this.idleCheckPending = true;
		this.clock.sleep(this.idleSince + this.leaseTtlMs - now, this.closing.signal).then(
			() => {
				this.idleCheckPending = false;
				if (!this.queue.head) this.releaseWhenIdle();
			},
			() => undefined,
		);
	}

	/**
	 * Gives the unspent slots back to the account (best effort: a process that cannot, e.g. killed, only
	 * makes the account slower for up to the horizon). The engine awaits it before closing.
	 */
	async releaseUnspent(): Promise<void> {
		if (this.slots.length === 0 || this.fallback) return;
		const count = this.slots.releaseAll();
		const request = { count, epoch: this.epoch, requestsPerMinute: this.runRate };
		await this.call((signal) => this.store.releaseBudget(this.account, request, signal)).catch(() => undefined);
	}

	/**
	 * One take in flight at a time. Asks for what this process used over the last horizon and half again
	 * (at least `minReservation`, or the queue), never more than the horizon holds at its rate.
	 */
	private take(): void {
		if (this.taking) return;
		this.taking = true;
		const now = this.clock.now();
		while (this.recentGrants.length > 0 && this.recentGrants[0] <= now - this.horizonMs) this.recentGrants.shift();
		const most = Math.max(1, Math.ceil((this.spendingPerMinute / 60_000) * this.horizonMs));
		const want = Math.min(most, Math.max(this.queue.length, this.minReservation, Math.ceil(this.recentGrants.length * 1.5)));
		const successes = this.successes;
		this.successes = 0;
		this.counters.takes++;
		const sentAt = now;
		const request = { want, horizonMs: this.horizonMs, requestsPerMinute: this.runRate, successes, epoch: this.epoch };
		this.call((signal) => this.store.reserveBudget(this.account, request, signal)).then(
			(answer) => {
				this.taking = false;
				const now = this.clock.now();
				this.takeRoundTripMs = now - sentAt;
				this.apply(answer);
				if (!this.fallback && !(this.pausedUntil > now) && answer.granted > 0) this.slots.add(now, answer.slotsMs, Number.isFinite(this.runCap) && this.runCap < this.current ? 60_000 / this.runCap : 0);
				// Nothing granted (paused, or the horizon reserved by others): the database says when to ask again.
				this.nextTakeAt = answer.granted > 0 ? 0 : now + Math.max(this.minPollMs, answer.waitMs);
				this.pump();
			},
			(error) => {
				this.taking = false;
				this.successes += successes;
				this.enterFallback(error);
			},
		);
	}

	/** What the database says about the account, in this process's clock. */
	private apply(answer: BudgetAnswer): void {
		const now = this.clock.now();
		const local = (at: number | null) => (at === null ? null : now + (at - answer.now));
		if (answer.epoch !== this.epoch) {
			this.epoch = answer.epoch;
			this.successes = 0; // those successes belong to a wave the database has moved past
		}
		this.configured = answer.configuredPerMinute;
		this.current = answer.currentPerMinute;
		const pausedUntil = local(answer.pausedUntil);
		if (pausedUntil !== null && pausedUntil > now) {
			this.slots.dropAll();
			this.extendPause(now, pausedUntil);
		}
		this.episodeStart = local(answer.episodeStartedAt);
	}

	private extendPause(now: number, until: number): void {
		const from = Math.max(this.pausedUntil, now);
		if (until <= from) return;
		this.counters.pausedMs += until - from;
		this.pausedUntil = until;
	}

	/** A database call with a deadline: a call that hangs counts as unreachable. */
	private async call<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
		const controller = new AbortController();
		this.inFlight.add(controller);
		const deadline = new AbortController();
		const timeout = this.clock.sleep(this.callTimeoutMs, deadline.signal).then(
			() => {
				controller.abort();
				throw new Error(`no answer within ${Math.round(this.callTimeoutMs / 1000)} s`);
			},
			() => undefined as never,
		);
		try {
			return await Promise.race([work(controller.signal), timeout]);
		} finally {
			deadline.abort();
			this.inFlight.delete(controller);
		}
	}

	private enterFallback(error: unknown): void {
		if (this.closed || this.fallback) return;
		const share = Math.max(1, this.configuredRequestsPerMinute * this.fallbackShare);
		this.fallback = new RateBudget({
			requestsPerMinute: share,
			throttleBackoffBaseMs: this.backoffBaseMs,
			throttleBackoffMaxMs: this.backoffMaxMs,
			patienceMs: this.patienceMs,
			clock: this.clock,
		});
		this.fallbackSince = this.clock.now();
		this.counters.fallbacks++;
		const reason = error instanceof Error ? error.message : String(error);
		this.notify({
			mode: 'fallback',
			requestsPerMinute: share,
			message: `The shared SprintHub budget in the database cannot be reached (${reason.slice(0, 200)}); this process goes on alone at ${formatRate(share)} requests/min (${Math.round(this.fallbackShare * 100)} % of ${formatRate(this.configuredRequestsPerMinute)}) and tries the database again every ${Math.round(this.retryDatabaseMs / 1000)} s.`,
		});
		this.pump();
	}

	/** While falling back, tries the database again now and then; back to the shared budget when it answers. */
	private probeDatabase(): void {
		if (!this.fallback || this.taking || this.clock.now() < this.fallbackSince + this.retryDatabaseMs) return;
		this.taking = true;
		this.fallbackSince = this.clock.now();
		this.call((signal) => this.store.reserveBudget(this.account, { want: 0, horizonMs: this.horizonMs, requestsPerMinute: this.runRate, successes: 0, epoch: this.epoch }, signal)).then(
			(answer) => {
				this.taking = false;
				// The fallback's own waiters drain at its rate; new calls go to the shared budget.
				this.fallback = null;
				this.apply(answer);
				this.pump();
				this.notify({ mode: 'shared', requestsPerMinute: this.currentRequestsPerMinute, message: 'The shared SprintHub budget in the database answers again; this process is back on it.' });
			},
			() => {
				this.taking = false;
			},
		);
	}

	private notify(notice: BudgetNotice): void {
		try {
			this.onNotice?.(notice);
		} catch {
			// A progress hook must never break a sync.
		}
	}
}

function formatRate(perMinute: number): string {
	return perMinute >= 10 ? String(Math.round(perMinute)) : perMinute.toFixed(1);
}
