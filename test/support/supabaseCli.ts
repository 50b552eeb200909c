import { execFile } from 'node:child_process';
import { join } from 'node:path';

/** The real Supabase CLI (pinned in package.json), run from the repository root as users run it from the package. */
export const SUPABASE_CLI = require.resolve('supabase/dist/supabase.js');
const ROOT = join(__dirname, '..', '..');

export interface CliResult {
	code: number;
	/** stdout and stderr together, as a user sees them. */
	output: string;
}

/**
 * `supabase db push --db-url <url> --yes [flags]`: never throws on a non-zero exit, so a test can
 * check a refusal's message. TLS is off, as for any local PostgreSQL.
 */
export function supabaseDbPush(databaseUrl: string, flags: string[] = []): Promise<CliResult> {
	const url = new URL(databaseUrl);
	url.searchParams.set('sslmode', 'disable');
	return new Promise((resolve, reject) => {
		execFile(
			process.execPath,
			[SUPABASE_CLI, 'db', 'push', '--db-url', url.toString(), '--yes', ...flags],
			{ cwd: ROOT, timeout: 120_000 },
			(error, stdout, stderr) => {
				const code = error ? (typeof error.code === 'number' ? error.code : NaN) : 0;
				if (Number.isNaN(code)) reject(error);
				else resolve({ code, output: `${stdout}${stderr}` });
			},
		);
	});
}
