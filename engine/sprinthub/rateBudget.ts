/**
 * One rate budget per SprintHub account in a process, shared by every call (list pages, lead details,
 * segment lists) of every segment synced in parallel.
 *
 * - Smooth spacing: a token bucket refilled at the current rate with a small burst; callers are served
 *   strictly in arrival order (FIFO), so no segment starves another.
 * - Throttle signal (401 "too many requests" or 429): every caller pauses, for Retry-After when given,
 *   else for an exponential backoff; the rate is multiplied down (once per throttle episode wave, not
 *   once per in-flight call) and then climbs back additively with every success, never above the
 *   configured rate.
 * - Patience: when throttling has lasted longer than the patience, waiters are rejected with a
 *   `throttled` SyncError marked `patienceExhausted`, so the run can checkpoint and end `rate_limited`.
 * - Waits reject promptly with a `cancelled` SyncError when the caller's AbortSignal fires.
 */
import { BudgetWaiters, WakeTimer, patienceExhaustedError } from './budgetWaiters';
import { type Clock, systemClock } from './clock';

export interface RateBudgetOptions {
	/** The configured (maximum) rate. Default 80 per minute. */
	requestsPerMinute?: number;
	/** How many calls may go back to back after a quiet spell. Default 2. */
	burst?: number;
	/** The rate never drops below this after throttles. Default max(1, requestsPerMinute / 16). */
	minRequestsPerMinute?: number;
	/** Multiplicative decrease on a throttle signal. Default 0.5. */
	decreaseFactor?: number;
	/** Additive increase per successful call, in requests per minute. Default requestsPerMinute / 40. */
	increasePerSuccess?: number;
	/** First pause when a throttle gives no Retry-After; doubles per consecutive throttle. Default 5 s. */
	throttleBackoffBaseMs?: number;
	/** Longest pause without Retry-After. Default 120 s. */
	throttleBackoffMaxMs?: number;
	/** How long throttling may last before waiters give up. Default 10 minutes. */
	patienceMs?: number;
	clock?: Clock;
	/** Jitter source in [0, 1). Default Math.random. */
	random?: () => number;
}

export interface AcquireOptions {
	/** Overrides the budget's patience for this wait. */
	patienceMs?: number;
	/**
	 * Patience is counted from the start of the throttle episode, but never from before this time
	 * (epoch ms): a run that starts while an earlier run's episode goes on still gets its own patience.
	 */
	patienceFrom?: number;
}

/** Proof that a call was granted; hand it back with the outcome. */
export interface BudgetTicket {
	readonly seq: number;
	readonly grantedAt: number;
	/** How long the caller waited in the queue (spacing and pauses). */
	readonly waitedMs: number;
}

export interface RateBudgetStats {
	/** Calls granted. */
	granted: number;
	/** Throttle signals received. */
	throttled: number;
	/** Throttle signals that lowered the rate (one per wave of throttled in-flight calls). */
	rateDecreases: number;
	/** Total time callers spent waiting for a grant, summed over callers. */
	waitMs: number;
	/** Wall time the budget spent paused after throttles. */
	pausedMs: number;
	/** Waiters rejected because throttling outlasted their patience. */
	patienceExhausted: number;
	configuredRequestsPerMinute: number;
	currentRequestsPerMinute: number;
	/** Epoch ms until which every caller is paused, or null. */
	pausedUntil: number | null;
	queued: number;
}

export class RateBudget {
	private configuredRate: number;
	private rate: number;
	private readonly burst: number;
	private readonly minRateOption?: number;
	private readonly decreaseFactor: number;
	private readonly increasePerSuccessOption?: number;
	private readonly backoffBaseMs: number;
	private readonly backoffMaxMs: number;
	private readonly patienceMs: number;
	private readonly clock: Clock;
	private readonly random: () => number;

	private tokens: number;
	private lastRefill: number;
	private pausedUntil = 0;
	private episodeStart: number | null = null;
	private consecutiveThrottles = 0;
	/** Tickets with seq <= this were granted before the last reaction to a throttle. */
	private reactionSeq = 0;
	private nextSeq = 1;
	private readonly queue: BudgetWaiters;
	private readonly timer: WakeTimer;
	private readonly counters = { granted: 0, throttled: 0, rateDecreases: 0, waitMs: 0, pausedMs: 0, patienceExhausted: 0 };

	constructor(options: RateBudgetOptions = {}) {
		this.configuredRate = positive(options.requestsPerMinute, 80, 'requestsPerMinute');
		this.rate = this.configuredRate;
		this.burst = Math.max(1, positive(options.burst, 2, 'burst'));
		this.minRateOption = options.minRequestsPerMinute;
		this.decreaseFactor = options.decreaseFactor ?? 0.5;
		if (!(this.decreaseFactor > 0 && this.decreaseFactor < 1)) throw new RangeError('decreaseFactor must be between 0 and 1');
		this.increasePerSuccessOption = options.increasePerSuccess;
		this.backoffBaseMs = positive(options.throttleBackoffBaseMs, 5_000, 'throttleBackoffBaseMs');
		this.backoffMaxMs = positive(options.throttleBackoffMaxMs, 120_000, 'throttleBackoffMaxMs');
		this.patienceMs = positive(options.patienceMs, 10 * 60_000, 'patienceMs');
		this.clock = options.clock ?? systemClock;
		this.random = options.random ?? Math.random;
		this.tokens = this.burst;
		this.lastRefill = this.clock.now();
		this.queue = new BudgetWaiters(this.clock, {
			onCancelled: (waitedMs) => {
				this.counters.waitMs += waitedMs;
			},
			onChange: () => this.pump(),
		});
		this.timer = new WakeTimer(this.clock, () => this.pump());
	}

	get configuredRequestsPerMinute(): number {
		return this.configuredRate;
	}

	get currentRequestsPerMinute(): number {
		return this.rate;
	}

	/** Changes the configured rate (e.g. a run with another setting); the current rate never exceeds it. */
	setRequestsPerMinute(requestsPerMinute: number): void {
		const next = positive(requestsPerMinute, this.configuredRate, 'requestsPerMinute');
		const wasAtMax = this.rate >= this.configuredRate;
		this.refill(this.clock.now());
		this.configuredRate = next;
		this.rate = wasAtMax ? next : Math.min(this.rate, next);
		this.rate = Math.max(this.rate, Math.min(this.minRate, next));
		this.pump();
	}

	/** Waits for the right to send one call. */
	acquire(signal?: AbortSignal, options: AcquireOptions = {}): Promise<BudgetTicket> {
		return this.queue.enqueue(signal, { patienceMs: options.patienceMs ?? this.patienceMs, patienceFrom: options.patienceFrom ?? 0 });
	}

	/** The call succeeded: the throttle episode is over and the rate climbs back. */
	reportSuccess(ticket: BudgetTicket): void {
		if (ticket.seq <= this.reactionSeq) return; // sent before the last slow-down; says nothing new
		this.episodeStart = null;
		this.consecutiveThrottles = 0;
		if (this.rate < this.configuredRate) {
			this.rate = Math.min(this.configuredRate, this.rate + this.increasePerSuccess);
			this.pump();
		}
	}

	/**
	 * The call was throttled. Pauses every caller and lowers the rate. Returns how long callers will
	 * now wait before the next call goes out, in ms.
	 */
	reportThrottle(ticket: BudgetTicket, retryAfterMs?: number): number {
		const now = this.clock.now();
		this.counters.throttled++;
		if (this.episodeStart === null || this.episodeIsStale(now)) {
			this.episodeStart = now;
			this.consecutiveThrottles = 0;
		}
		const validRetryAfter = retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs >= 0 ? retryAfterMs : undefined;
		if (ticket.seq > this.reactionSeq) {
			// First throttle of this wave: react once for all the calls that were in flight with it.
			this.consecutiveThrottles++;
			this.counters.rateDecreases++;
			this.reactionSeq = this.nextSeq - 1;
			this.refill(now);
			this.rate = Math.max(this.minRate, this.rate * this.decreaseFactor);
			const pauseMs = validRetryAfter ?? this.backoffFor(this.consecutiveThrottles);
			this.extendPause(now, now + pauseMs);
		} else if (validRetryAfter !== undefined) {
			this.extendPause(now, now + validRetryAfter);
		}
		this.pump();
		return Math.max(0, this.pausedUntil - now);
	}

	/** The call failed for another reason (transient or not); the budget does not change. */
	reportFailure(_ticket: BudgetTicket): void {
		// Only throttle signals steer the budget; transient failures are retried by the caller.
	}

	stats(): RateBudgetStats {
		const now = this.clock.now();
		return {
			...this.counters,
			configuredRequestsPerMinute: this.configuredRate,
			currentRequestsPerMinute: this.rate,
			pausedUntil: this.pausedUntil > now ? this.pausedUntil : null,
			queued: this.queue.length,
		};
	}

	/** Rejects every waiter (e.g. on shutdown) and stops the timer. */
	close(): void {
		this.timer.stop();
		this.queue.cancelAll();
	}

	private get minRate(): number {
		return Math.min(this.configuredRate, this.minRateOption ?? Math.max(1, this.configuredRate / 16));
	}

	private get increasePerSuccess(): number {
		return this.increasePerSuccessOption ?? this.configuredRate / 40;
	}

	private get msPerToken(): number {
		return 60_000 / this.rate;
	}

	/** An episode nobody has heard of for a whole patience after its pause is over (e.g. a later run). */
	private episodeIsStale(now: number): boolean {
		return now > Math.max(this.pausedUntil, this.episodeStart ?? 0) + this.patienceMs;
	}

	private backoffFor(consecutive: number): number {
		const exponential = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** (consecutive - 1));
		// Equal jitter: never less than half, so a pause always means a pause.
		return exponential / 2 + this.random() * (exponential / 2);
	}

	private extendPause(now: number, until: number): void {
		const from = Math.max(this.pausedUntil, now);
		if (until <= from) return;
		this.counters.pausedMs += until - from;
		this.pausedUntil = until;
		// After the pause, one probe may go at once; then spacing at the lowered rate.
		this.tokens = 0;
		this.lastRefill = until - this.msPerToken;
	}

	private refill(now: number): void {
		if (now <= this.lastRefill) return;
		this.tokens = Math.min(this.burst, this.tokens + ((now - this.lastRefill) * this.rate) / 60_000);
		this.lastRefill = now;
	}

	private pump(): void {
		for (;;) {
			const head = this.queue.head;
			if (!head) {
				this.timer.stop();
				return;
			}
			const now = this.clock.now();
			if (this.episodeStart !== null && this.episodeIsStale(now)) {
				this.episodeStart = null;
				this.consecutiveThrottles = 0;
			}
			this.refill(now);
			const tokenReadyAt = this.tokens >= 1 ? now : Math.max(now, this.lastRefill) + ((1 - this.tokens) * 60_000) / this.rate;
			const readyAt = Math.max(this.pausedUntil, tokenReadyAt);
			if (this.episodeStart !== null && readyAt > now && readyAt > Math.max(this.episodeStart, head.patienceFrom) + head.patienceMs) {
				this.queue.shift();
				this.counters.patienceExhausted++;
				this.counters.waitMs += now - head.enqueuedAt;
				head.reject(patienceExhaustedError(now - this.episodeStart, head.patienceMs, this.pausedUntil - now));
				continue;
			}
			if (readyAt > now) {
				this.timer.at(readyAt);
				return;
			}
			this.tokens -= 1;
			this.queue.shift();
			const waitedMs = now - head.enqueuedAt;
			this.counters.granted++;
			this.counters.waitMs += waitedMs;
			head.resolve({ seq: this.nextSeq++, grantedAt: now, waitedMs });
		}
	}
}

/** An option that must be a positive number when given (both budgets' options). */
export function positive(value: number | undefined, fallback: number, name: string): number {
	if (value === undefined) return fallback;
	if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
	return value;
}

/**
 * The budgets of this process, one per account (base URL + instance). Everything that talks to the
 * same account must take its budget from here.
 */
export class RateBudgetRegistry {
	private readonly budgets = new Map<string, RateBudget>();

	/** The account's budget; created with the options on first use, later only its rate follows them. */
	get(accountKey: string, options: RateBudgetOptions = {}): RateBudget {
		let budget = this.budgets.get(accountKey);
		if (!budget) {
			budget = new RateBudget(options);
			this.budgets.set(accountKey, budget);
		} else if (options.requestsPerMinute !== undefined && options.requestsPerMinute !== budget.configuredRequestsPerMinute) {
			budget.setRequestsPerMinute(options.requestsPerMinute);
		}
		return budget;
	}

	has(accountKey: string): boolean {
		return this.budgets.has(accountKey);
	}

	/** Closes and forgets every budget (tests, process shutdown). */
	clear(): void {
		for (const budget of this.budgets.values()) budget.close();
		this.budgets.clear();
	}
}

/** The process-wide registry. */
export const rateBudgets = new RateBudgetRegistry();
