/**
 * How a run talks to the database: every write is idempotent (page keys, run ids), so calls that may
 * pass on a second try are retried; errors are translated into the engine's vocabulary.
 */
import { SyncError, toSyncError } from '../errors';
import { StoreError } from '../store';

const DB_ATTEMPTS = 5;

/** supabase-js never retries writes; ours are idempotent (page keys), so retry what may pass. */
export async function withDatabaseRetry<T>(call: () => Promise<T>, signal: AbortSignal, onRetry: () => void): Promise<T> {
	for (let attempt = 1; ; attempt++) {
		try {
			return await call();
		} catch (error) {
			const retryable = error instanceof StoreError && error.retryable && error.kind !== 'timeout';
			if (!retryable || attempt >= DB_ATTEMPTS || signal.aborted) throw error;
			onRetry();
			const delay = Math.min(8_000, 250 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
			await new Promise((resolve) => setTimeout(resolve, delay));
		}
	}
}

/** Database errors in the engine's vocabulary: what the user must fix vs. what may pass later. */
export function fromStoreError(error: unknown): SyncError {
	if (!(error instanceof StoreError)) return toSyncError(error);
	const configuration = ['migrations_missing', 'schema_not_exposed', 'permission', 'auth', 'unknown_segment', 'invalid_argument'];
	const errorClass = configuration.includes(error.kind) ? 'configuration' : error.retryable ? 'transient' : 'system';
	return new SyncError({ errorClass, code: `database_${error.kind}`, message: error.message, httpStatus: error.status || undefined, cause: error });
}
