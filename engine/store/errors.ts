import { redactSecrets } from '../redaction';

/** What went wrong talking to the database, and what the user should do about it. */
export type StoreErrorKind =
	| 'migrations_missing'
	| 'schema_not_exposed'
	| 'permission'
	| 'auth'
	| 'lease_lost'
	| 'unknown_segment'
	| 'unknown_run'
	| 'invalid_argument'
	| 'timeout'
	| 'unavailable'
	| 'network'
	| 'conflict'
	| 'database';

const RETRYABLE: ReadonlySet<StoreErrorKind> = new Set<StoreErrorKind>(['timeout', 'unavailable', 'network', 'conflict']);

/** The PostgREST error body (also what supabase-js hands back as `error`). */
export interface PostgrestErrorLike {
	code?: string;
	message?: string;
	details?: string | null;
	hint?: string | null;
}

export class StoreError extends Error {
	readonly kind: StoreErrorKind;
	/** PostgreSQL SQLSTATE or PostgREST code, '' when none. */
	readonly code: string;
	/** HTTP status (0: no response). */
	readonly status: number;
	/** The store method / SQL function that failed. */
	readonly operation: string;
	/** Trying again later may succeed. */
	readonly retryable: boolean;

	constructor(kind: StoreErrorKind, message: string, info: { code?: string; status?: number; operation: string }) {
		super(message);
		this.name = 'StoreError';
		this.kind = kind;
		this.code = info.code ?? '';
		this.status = info.status ?? 0;
		this.operation = info.operation;
		this.retryable = RETRYABLE.has(kind);
	}
}

// 42703: a column the store reads (e.g. the health view's computed leavers_pending) is not there yet.
const MISSING_OBJECT_CODES = new Set(['PGRST202', 'PGRST205', '42P01', '42883', '42703']);

/**
 * Turns a PostgREST/supabase-js error into a StoreError whose message says what to fix. Every
 * string in `secrets` is removed from the text, whatever the server echoed.
 */
export function toStoreError(
	operation: string,
	error: PostgrestErrorLike | null | undefined,
	status: number,
	secrets: readonly string[] = [],
): StoreError {
	const code = error?.code ?? '';
	const serverMessage = redactSecrets(error?.message ?? '', secrets);
	const hint = error?.hint ?? '';
	const make = (kind: StoreErrorKind, message: string) => new StoreError(kind, `${operation}: ${redactSecrets(message, secrets)}`, { code, status, operation });

	if (MISSING_OBJECT_CODES.has(code) || (status === 404 && !code && !serverMessage)) {
		return make(
			'migrations_missing',
			`the sync tables or functions are missing from this Supabase database (${serverMessage || 'not found'}): run the migrations ` +
				'from the package\'s supabase folder (supabase db push --include-roles; or in the SQL editor: roles.sql, then each migration in order), then retry.',
		);
	}
	if (code === 'PGRST106') {
		return make('schema_not_exposed', `${serverMessage}. Add the schema to Project Settings → Data API → Exposed schemas, or use "public".`);
	}
	if (code === '42501') {
		return make(
			'permission',
			`permission denied (${serverMessage}): the key must be the service role key (secret key) of the project, not the anon or publishable key.`,
		);
	}
	if (status === 401 || code.startsWith('PGRST30')) {
		return make('auth', `the Supabase key was rejected (${serverMessage || 'unauthorized'}): use the project's service role key (secret key).`);
	}
	if (code === 'PT409' || hint === 'SYNC_LEASE_LOST') return make('lease_lost', serverMessage);
	if (hint === 'SYNC_UNKNOWN_SEGMENT') return make('unknown_segment', serverMessage);
	if (hint === 'SYNC_UNKNOWN_RUN') return make('unknown_run', serverMessage);
	if (code === '57014') {
		return make('timeout', `the database cancelled the statement (statement timeout): ${serverMessage}. Send smaller pages.`);
	}
	// Two runs of overlapping segments can lock the same leads in turn; the page key makes a retry safe.
	if (code === '40P01' || code === '40001' || code === '55P03') {
		return make('conflict', `the database stopped a transaction that conflicted with another run (${serverMessage}); it is retried.`);
	}
	if (status === 0) return make('network', `no response from Supabase (${serverMessage || 'network error'}); check the project URL and the network.`);
	// A 5xx without a code we know is the gateway's or the server's bad minute, not our request's fault.
	if (status >= 500 || code === 'PGRST000' || code === 'PGRST001' || code === 'PGRST002' || code === 'PGRST003' || code.startsWith('08') || code === '57P01' || code === '53300') {
		return make('unavailable', `Supabase is unavailable right now (HTTP ${status}${serverMessage ? `: ${serverMessage}` : ''}).`);
	}
	if (code === '22023' || code === 'P0001' || code.startsWith('22') || code.startsWith('23') || status === 400) {
		return make('invalid_argument', withHint(serverMessage || `bad request (HTTP ${status})`, hint));
	}
	return make('database', `${serverMessage || 'database error'} (HTTP ${status}${code ? `, ${code}` : ''})`);
}

/** A hint written for people (the management functions say there what to change) joins the message; a SYNC_* code does not. */
function withHint(message: string, hint: string): string {
	if (!hint || /^SYNC_[A-Z_]+$/.test(hint) || message.includes(hint)) return message;
	return `${message.replace(/[.\s]+$/, '')}. ${hint}`;
}
