/**
 * How a run talks to the database through its bad minutes. Every write of a run is idempotent (page
 * keys, run ids, claim request ids), so every call retries transient failures (5xx, the gateway's
 * 503, refused or dropped connections, timeouts, conflicts) with backoff and jitter, for as long as
 * the run's database patience allows (default 2 minutes); a cancel or a lost lease stops the wait at
 * once. Errors are translated into the engine's vocabulary.
 */
import { cancelledError, SyncError, toSyncError } from '../errors';
import { StoreError } from '../store';

export const DEFAULT_DATABASE_PATIENCE_MS = 120_000;

/** One retry, as the run's progress shows it. */
export interface DatabaseRetry {
	operation: string;
	attempt: number;
	waitMs: number;
	message: string;
}

export class DatabaseCalls {
	constructor(
		private readonly signal: AbortSignal,
		private readonly patienceMs: number = DEFAULT_DATABASE_PATIENCE_MS,
		private readonly onRetry: (retry: DatabaseRetry) => void = () => undefined,
	) {}

	/** `call` until it succeeds, fails for good, or the patience runs out (then its last error). */
	async run<T>(call: () => Promise<T>): Promise<T> {
		const started = Date.now();
		for (let attempt = 1; ; attempt++) {
			try {
				return await call();
			} catch (error) {
				if (!isTransient(error) || this.signal.aborted) throw error;
				const elapsedMs = Date.now() - started;
				const waitMs = Math.round(Math.min(10_000, 250 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2));
				if (elapsedMs + waitMs > this.patienceMs) throw outOfPatience(error, attempt, elapsedMs, this.patienceMs);
				this.onRetry({ operation: error.operation, attempt, waitMs, message: error.message });
				await sleep(waitMs, this.signal);
			}
		}
	}
}

/** A statement timeout is not retried as it is: the page writer halves the batch instead. */
function isTransient(error: unknown): error is StoreError {
	return error instanceof StoreError && error.retryable && error.kind !== 'timeout';
}

function outOfPatience(error: StoreError, attempts: number, elapsedMs: number, patienceMs: number): StoreError {
	const message = `${error.message} Still failing after ${attempts} attempts over ${Math.round(elapsedMs / 1000)} s (database patience ${Math.round(patienceMs / 1000)} s); the checkpoint is kept and the next run resumes from it.`;
	return new StoreError(error.kind, message, { code: error.code, status: error.status, operation: error.operation });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
	return new Promise((resolve, reject) => {
		if (signal.aborted) return reject(cancelledError('The sync'));
		const onAbort = () => {
			clearTimeout(timer);
			reject(cancelledError('The sync'));
		};
		const timer = setTimeout(() => {
			signal.removeEventListener('abort', onAbort);
			resolve();
		}, ms);
		signal.addEventListener('abort', onAbort, { once: true });
	});
}

/** Database errors in the engine's vocabulary: what the user must fix vs. what may pass later. */
export function fromStoreError(error: unknown): SyncError {
	if (!(error instanceof StoreError)) return toSyncError(error);
	const configuration = ['migrations_missing', 'schema_not_exposed', 'permission', 'auth', 'unknown_segment', 'invalid_argument'];
	const errorClass = configuration.includes(error.kind) ? 'configuration' : error.retryable ? 'transient' : 'system';
	return new SyncError({ errorClass, code: `database_${error.kind}`, message: error.message, httpStatus: error.status || undefined, cause: error });
}
