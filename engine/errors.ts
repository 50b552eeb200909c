/**
 * The one error type of the sync engine; every message goes through the project's redaction.
 *
 * Plain TypeScript, no n8n imports: the node, the CLI and the tests all catch these.
 */
import { redactSecrets } from './redaction';

/**
 * - configuration: the user must change something (token, instance, segment id, base URL); never retried.
 * - throttled: SprintHub asked us to slow down; never a failure by itself (see RateBudget patience).
 * - transient: network, timeouts, 5xx, HTML or truncated bodies, unexpected shapes; retried with backoff.
 * - data: one record cannot be used (e.g. a lead without a positive integer id); quarantined, the run goes on.
 * - system: a bug or an environment problem on our side.
 * - cancelled: the caller's AbortSignal fired.
 */
export type SyncErrorClass = 'configuration' | 'throttled' | 'transient' | 'data' | 'system' | 'cancelled';

export interface SyncErrorOptions {
	errorClass: SyncErrorClass;
	message: string;
	/** What to do about it, in words a user can act on. */
	hint?: string;
	httpStatus?: number;
	/** Defaults to true for throttled and transient, false otherwise. */
	retryable?: boolean;
	/** A short machine-readable code, e.g. 'invalid_token', 'unknown_instance', 'http_5xx'. */
	code?: string;
	/** Set on a throttled error when throttling outlasted the run's patience. */
	patienceExhausted?: boolean;
	/** The wait SprintHub asked for (Retry-After), when it gave one. */
	retryAfterMs?: number;
	/** Number of attempts made before giving up, when retries happened. */
	attempts?: number;
	/** The underlying error; it is copied and redacted, never kept as is. */
	cause?: unknown;
	/** Secrets to remove from message, hint and cause. */
	secrets?: readonly (string | undefined | null)[];
}

function describeCause(cause: unknown): { name: string; message: string; code?: string } {
	if (cause instanceof Error) {
		const code = (cause as { code?: unknown }).code;
		return { name: cause.name, message: cause.message, code: typeof code === 'string' ? code : undefined };
	}
	return { name: 'Error', message: typeof cause === 'string' ? cause : safeStringify(cause) };
}

function safeStringify(value: unknown): string {
	try {
		return JSON.stringify(value) ?? String(value);
	} catch {
		return String(value);
	}
}

export class SyncError extends Error {
	readonly errorClass: SyncErrorClass;
	readonly hint: string;
	readonly httpStatus?: number;
	readonly retryable: boolean;
	readonly code?: string;
	readonly patienceExhausted: boolean;
	readonly retryAfterMs?: number;
	readonly attempts?: number;

	constructor(options: SyncErrorOptions) {
		const secrets = options.secrets ?? [];
		super(redactSecrets(options.message, secrets));
		this.name = 'SyncError';
		this.errorClass = options.errorClass;
		this.hint = redactSecrets(options.hint ?? defaultHint(options.errorClass), secrets);
		if (options.httpStatus !== undefined) this.httpStatus = options.httpStatus;
		this.retryable = options.retryable ?? (options.errorClass === 'throttled' || options.errorClass === 'transient');
		if (options.code !== undefined) this.code = options.code;
		this.patienceExhausted = options.patienceExhausted ?? false;
		if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
		if (options.attempts !== undefined) this.attempts = options.attempts;
		if (options.cause !== undefined) {
			// A fresh, redacted copy: the original may carry a URL with the token, or a socket.
			const described = describeCause(options.cause);
			const copy = new Error(redactSecrets(described.message, secrets));
			copy.name = described.name;
			if (described.code) (copy as Error & { code?: string }).code = described.code;
			copy.stack = `${copy.name}: ${copy.message}`;
			Object.defineProperty(this, 'cause', { value: copy, enumerable: false, writable: true, configurable: true });
		}
		if (this.stack) this.stack = redactSecrets(this.stack, secrets);
	}

	/** What goes into logs, n8n items and run ledgers. */
	toJSON(): SyncErrorJson {
		const json: SyncErrorJson = {
			name: this.name,
			errorClass: this.errorClass,
			message: this.message,
			hint: this.hint,
			retryable: this.retryable,
		};
		if (this.code !== undefined) json.code = this.code;
		if (this.httpStatus !== undefined) json.httpStatus = this.httpStatus;
		if (this.patienceExhausted) json.patienceExhausted = true;
		if (this.retryAfterMs !== undefined) json.retryAfterMs = this.retryAfterMs;
		if (this.attempts !== undefined) json.attempts = this.attempts;
		return json;
	}
}

export interface SyncErrorJson {
	name: string;
	errorClass: SyncErrorClass;
	message: string;
	hint: string;
	retryable: boolean;
	code?: string;
	httpStatus?: number;
	patienceExhausted?: boolean;
	retryAfterMs?: number;
	attempts?: number;
}

function defaultHint(errorClass: SyncErrorClass): string {
	switch (errorClass) {
		case 'configuration':
			return 'Check the SprintHub credential (base URL, instance, API token) and the node parameters.';
		case 'throttled':
			return 'SprintHub is throttling this account. Lower the requests per minute or wait; the next run resumes where this one stopped.';
		case 'transient':
			return 'SprintHub or the network failed for a while. Run again later; nothing is lost.';
		case 'data':
			return 'The record was quarantined; the run went on. Inspect it in SprintHub.';
		case 'cancelled':
			return 'The run was stopped on request; the next run resumes from the checkpoint.';
		case 'system':
			return 'An unexpected internal error. Please report it with the log lines around it.';
	}
}

export function isSyncError(error: unknown): error is SyncError {
	return error instanceof SyncError;
}

/** Wraps anything thrown into a SyncError (redacted); a SyncError passes through unchanged. */
export function toSyncError(
	error: unknown,
	secrets: readonly (string | undefined | null)[] = [],
	errorClass: SyncErrorClass = 'system',
): SyncError {
	if (error instanceof SyncError) return error;
	const described = describeCause(error);
	return new SyncError({ errorClass, message: described.message, cause: error, secrets, code: described.code });
}

/** The error a wait or call rejects with when the caller's AbortSignal fires. */
export function cancelledError(what = 'The operation'): SyncError {
	return new SyncError({ errorClass: 'cancelled', code: 'cancelled', message: `${what} was cancelled.` });
}
