/**
 * The time source of the rate budget and of retry backoff. Injectable so tests run minutes of
 * throttling in milliseconds (test/support/manualClock.ts).
 */
import { cancelledError } from '../errors';

export interface Clock {
	now(): number;
	/** Resolves after ms; rejects with a `cancelled` SyncError as soon as the signal aborts. */
	sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
	now: () => Date.now(),
	sleep: (ms, signal) =>
		new Promise<void>((resolve, reject) => {
			if (signal?.aborted) return reject(cancelledError('The wait'));
			const timer = setTimeout(done, Math.max(0, ms));
			function onAbort(): void {
				clearTimeout(timer);
				reject(cancelledError('The wait'));
			}
			function done(): void {
				signal?.removeEventListener('abort', onAbort);
				resolve();
			}
			signal?.addEventListener('abort', onAbort, { once: true });
		}),
};
