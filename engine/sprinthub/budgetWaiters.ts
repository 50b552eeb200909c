/**
 * What the two rate budgets (`RateBudget` in one process, `SharedRateBudget` across processes) share:
 * the FIFO of callers waiting for a grant, with prompt cancellation through an AbortSignal; the one
 * timer that wakes a budget when its next grant is due; and the error a waiter gets when throttling
 * outlasts its patience. Each budget keeps its own rules for when the head of the queue is served.
 */
import { SyncError, cancelledError } from '../errors';
import type { Clock } from './clock';
import type { BudgetTicket } from './rateBudget';

const WAITING = 'Waiting for the SprintHub rate budget';

export interface BudgetWaiter {
	enqueuedAt: number;
	patienceMs: number;
	patienceFrom: number;
	resolve: (ticket: BudgetTicket) => void;
	reject: (error: SyncError) => void;
	signal?: AbortSignal;
	onAbort?: () => void;
}

export interface BudgetWaitersHooks {
	/** A waiter was cancelled through its signal after waiting this long (for the budget's counters). */
	onCancelled(waitedMs: number): void;
	/** The queue changed: the budget serves its head if it can (its `pump`). */
	onChange(): void;
}

/** Callers waiting for a budget, served strictly in arrival order. */
export class BudgetWaiters {
	private queue: BudgetWaiter[] = [];

	constructor(
		private readonly clock: Clock,
		private readonly hooks: BudgetWaitersHooks,
	) {}

	get length(): number {
		return this.queue.length;
	}

	get head(): BudgetWaiter | undefined {
		return this.queue[0];
	}

	/** A new waiter at the back; settles when the budget grants or rejects it, or its signal aborts. */
	enqueue(signal: AbortSignal | undefined, patience: { patienceMs: number; patienceFrom: number }): Promise<BudgetTicket> {
		if (signal?.aborted) return Promise.reject(cancelledError(WAITING));
		return new Promise<BudgetTicket>((resolve, reject) => {
			const waiter: BudgetWaiter = { enqueuedAt: this.clock.now(), ...patience, resolve, reject, signal };
			if (signal) {
				waiter.onAbort = () => {
					const index = this.queue.indexOf(waiter);
					if (index < 0) return;
					this.queue.splice(index, 1);
					this.hooks.onCancelled(this.clock.now() - waiter.enqueuedAt);
					reject(cancelledError(WAITING));
					this.hooks.onChange();
				};
				signal.addEventListener('abort', waiter.onAbort, { once: true });
			}
			this.queue.push(waiter);
			this.hooks.onChange();
		});
	}

	/** Takes the head off the queue (no longer cancellable) for the budget to resolve or reject. */
	shift(): BudgetWaiter | undefined {
		const head = this.queue.shift();
		if (head) detach(head);
		return head;
	}

	/** Takes every waiter off the queue, in order (e.g. to hand them to another budget). */
	takeAll(): BudgetWaiter[] {
		const waiters = this.queue;
		this.queue = [];
		for (const waiter of waiters) detach(waiter);
		return waiters;
	}

	/** Rejects every waiter with a `cancelled` error (the budget is closing). */
	cancelAll(): void {
		for (const waiter of this.takeAll()) waiter.reject(cancelledError(WAITING));
	}
}

function detach(waiter: BudgetWaiter): void {
	if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
}

/** The one timer of a budget: wakes it at the time its next grant is due; a new time replaces the old. */
export class WakeTimer {
	private timer: AbortController | null = null;
	private timerAt = 0;

	constructor(
		private readonly clock: Clock,
		private readonly onWake: () => void,
	) {}

	at(at: number): void {
		if (this.timer && this.timerAt === at) return;
		this.stop();
		const controller = new AbortController();
		this.timer = controller;
		this.timerAt = at;
		this.clock.sleep(at - this.clock.now(), controller.signal).then(
			() => {
				if (this.timer !== controller) return;
				this.timer = null;
				this.onWake();
			},
			() => undefined, // cancelled because the schedule changed
		);
	}

	stop(): void {
		if (!this.timer) return;
		const controller = this.timer;
		this.timer = null;
		controller.abort();
	}
}

/** The error of a waiter whose patience ran out while SprintHub kept throttling the account. */
export function patienceExhaustedError(throttledForMs: number, patienceMs: number, retryAfterMs: number): SyncError {
	return new SyncError({
		errorClass: 'throttled',
		code: 'patience_exhausted',
		patienceExhausted: true,
		retryable: true,
		retryAfterMs: Math.max(0, retryAfterMs),
		message: `SprintHub has been throttling this account for ${Math.round(throttledForMs / 1000)} s, longer than the patience of ${Math.round(patienceMs / 1000)} s.`,
		hint: 'The run stops here with its checkpoint saved and resumes on the next trigger. If this happens often, lower the requests per minute or raise the patience.',
	});
}
