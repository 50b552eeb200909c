/**
 * A clock for tests of the rate budget and retry backoff: time moves only when the test says so,
 * so minutes of throttling run in milliseconds. Test code only; the engine uses systemClock.
 */
import { cancelledError } from '../../engine/errors';
import type { Clock } from '../../engine/sprinthub/clock';

interface ManualTimer {
	at: number;
	seq: number;
	resolve: () => void;
}

/**
 * A clock that moves only when told to. `advance(ms)` fires due timers in time order and lets the
 * promise chains they start run before moving on, so code under test behaves as with real time.
 */
export class ManualClock implements Clock {
	private current: number;
	private seq = 0;
	private timers: ManualTimer[] = [];

	constructor(start = 1_000_000) {
		this.current = start;
	}

	now(): number {
		return this.current;
	}

	sleep(ms: number, signal?: AbortSignal): Promise<void> {
		return new Promise<void>((resolve, reject) => {
			if (signal?.aborted) return reject(cancelledError('The wait'));
			const timer: ManualTimer = {
				at: this.current + Math.max(0, ms),
				seq: this.seq++,
				resolve: () => {
					signal?.removeEventListener('abort', onAbort);
					resolve();
				},
			};
			const onAbort = (): void => {
				this.timers = this.timers.filter((t) => t !== timer);
				reject(cancelledError('The wait'));
			};
			signal?.addEventListener('abort', onAbort, { once: true });
			this.timers.push(timer);
		});
	}

	/** Number of pending timers (what is waiting on this clock). */
	get pendingTimers(): number {
		return this.timers.length;
	}

	/** Moves time forward by ms, firing every timer that falls due on the way. */
	async advance(ms: number): Promise<void> {
		const target = this.current + ms;
		await flushMicrotasks();
		for (;;) {
			const next = this.nextDue(target);
			if (!next) break;
			this.timers = this.timers.filter((t) => t !== next);
			this.current = Math.max(this.current, next.at);
			next.resolve();
			await flushMicrotasks();
		}
		this.current = target;
		await flushMicrotasks();
	}

	private nextDue(target: number): ManualTimer | undefined {
		let best: ManualTimer | undefined;
		for (const timer of this.timers) {
			if (timer.at > target) continue;
			if (!best || timer.at < best.at || (timer.at === best.at && timer.seq < best.seq)) best = timer;
		}
		return best;
	}
}

/** Lets every pending promise callback run: the microtask queue drains before a macrotask. */
export async function flushMicrotasks(): Promise<void> {
	await new Promise<void>((resolve) => setImmediate(resolve));
}
