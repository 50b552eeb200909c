/**
 * Errors the command line turns into one line and an exit code, never a stack trace.
 */
import { isSyncError, StoreError } from '../engine';

export const EXIT = {
	success: 0,
	failure: 1,
	usage: 2,
	partial: 3,
	/** 128 + SIGINT, what shells and cron wrappers expect after Ctrl-C. */
	cancelled: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The user must change the command line or the configuration (exit 2). */
export class UsageError extends Error {
	readonly exitCode: ExitCode = EXIT.usage;
	constructor(message: string) {
		super(message);
		this.name = 'UsageError';
	}
}

/** A failure already explained in words the user can act on. */
export class CliError extends Error {
	readonly exitCode: ExitCode;
	constructor(message: string, exitCode: ExitCode = EXIT.failure) {
		super(message);
		this.name = 'CliError';
		this.exitCode = exitCode;
	}
}

/** Database problems, said in terms of what the CLI user sets (variables and flags). */
export function explainStoreError(error: StoreError, supabaseUrl: string): CliError {
	const where = displayUrl(supabaseUrl);
	switch (error.kind) {
		case 'network':
			return new CliError(`Cannot reach Supabase at ${where}: check SUPABASE_URL (or --supabase-url) and the network.`, EXIT.failure);
		case 'unavailable':
		case 'timeout':
			return new CliError(`Supabase at ${where} is not answering properly right now (${stripOperation(error.message)}); try again later.`, EXIT.failure);
		case 'auth':
			return new CliError(
				`Supabase at ${where} rejected the key: set SUPABASE_SERVICE_ROLE_KEY (or --supabase-key) to the project's service role (secret) key.`,
				EXIT.usage,
			);
		case 'permission':
			return new CliError(
				`Supabase at ${where} refused access: the key must be the service role (secret) key, not the anon or publishable key; check SUPABASE_SERVICE_ROLE_KEY.`,
				EXIT.usage,
			);
		case 'migrations_missing':
			return new CliError(
				`The sync tables are missing from the Supabase database at ${where}: apply the migrations in supabase/migrations (from the package folder: supabase db push --include-roles; or in the SQL editor: supabase/roles.sql, then each migration in order), then retry.`,
				EXIT.usage,
			);
		case 'schema_not_exposed':
			return new CliError(`${stripOperation(error.message)} (or pass --schema public)`, EXIT.usage);
		case 'unknown_segment':
		case 'invalid_argument':
			return new CliError(stripOperation(error.message), EXIT.usage);
		default:
			return new CliError(`Supabase error: ${stripOperation(error.message)}`, EXIT.failure);
	}
}

/** Anything thrown, as one line and an exit code. */
export function describeFailure(error: unknown, supabaseUrl?: string): { message: string; exitCode: ExitCode } {
	if (error instanceof UsageError || error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
	if (error instanceof StoreError) {
		const explained = explainStoreError(error, supabaseUrl ?? '');
		return { message: explained.message, exitCode: explained.exitCode };
	}
	if (isSyncError(error)) {
		const message = error.hint && !error.message.includes(error.hint) ? `${error.message} ${error.hint}` : error.message;
		const exitCode = error.errorClass === 'configuration' ? EXIT.usage : error.errorClass === 'cancelled' ? EXIT.cancelled : EXIT.failure;
		return { message, exitCode };
	}
	const message = error instanceof Error ? error.message : String(error);
	return { message: `Unexpected error: ${message.split('\n')[0]}`, exitCode: EXIT.failure };
}

/** The store prefixes messages with the failing operation ("listControl: …"); users do not need it. */
function stripOperation(message: string): string {
	return message.replace(/^[A-Za-z_]+: /, '');
}

/** A URL without credentials, query or path, safe to print. */
export function displayUrl(url: string): string {
	const trimmed = url.trim();
	try {
		const parsed = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`);
		return parsed.origin;
	} catch {
		return '(invalid URL)';
	}
}
