/**
 * The token and the key read from a file or standard input (`--token-file PATH`, `--supabase-key-file -`):
 * unlike a flag's value, neither shows in `ps` or in the shell's history.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from './errors';

export type SecretFileFlag = 'token-file' | 'supabase-key-file';

/** The secrets read, by file flag, plus the warnings for the user (a file others can read). */
export type SecretFiles = Partial<Record<SecretFileFlag, string>> & { warnings?: string[] };

const WHAT: Record<SecretFileFlag, { secret: string; flag: string }> = {
	'token-file': { secret: 'SprintHub API token', flag: 'token' },
	'supabase-key-file': { secret: 'Supabase service role key', flag: 'supabase-key' },
};

export function readSecretFiles(flags: Record<string, unknown>, cwd: string, readStdin: () => string = () => readFileSync(0, 'utf8')): SecretFiles {
	const files: SecretFiles = { warnings: [] };
	const given = (Object.keys(WHAT) as SecretFileFlag[]).filter((flag) => typeof flags[flag] === 'string');
	if (given.filter((flag) => (flags[flag] as string).trim() === '-').length > 1) {
		throw new UsageError('Only one of --token-file and --supabase-key-file can read standard input (-): give the other one a file.');
	}
	for (const flag of given) {
		const { secret, flag: plainFlag } = WHAT[flag];
		if (typeof flags[plainFlag] === 'string') throw new UsageError(`--${plainFlag} and --${flag} both give the ${secret}: keep one (--${flag}).`);
		const path = (flags[flag] as string).trim();
		if (!path) throw new UsageError(`--${flag} is empty: give the file that holds the ${secret}, or - to read it from standard input.`);
		let text: string;
		if (path === '-') {
			text = readStdin();
		} else {
			const full = resolve(cwd, path);
			try {
				text = readFileSync(full, 'utf8');
			} catch (error) {
				const code = (error as NodeJS.ErrnoException).code;
				const why = code === 'ENOENT' ? 'there is no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : code ?? 'unreadable';
				throw new UsageError(`Cannot read --${flag} ${path}: ${why}. Give the file that holds the ${secret}.`);
			}
			// As ssh does for keys: say so when other users can read the file (POSIX modes only).
			if (process.platform !== 'win32' && (statSync(full).mode & 0o077) !== 0) {
				files.warnings!.push(`${path} can be read by other users of this machine: chmod 600 ${path}`);
			}
		}
		const value = text.replace(/^\uFEFF/, '').trim();
		const where = path === '-' ? 'standard input' : path;
		if (!value) throw new UsageError(`--${flag}: ${where} is empty; it must hold the ${secret}.`);
		// Never echo the content: it is a secret, even when it is the wrong one.
		if (/\s/.test(value) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(value)) {
			throw new UsageError(`--${flag}: ${where} must hold the ${secret} alone, on one line (no NAME=, no second line).`);
		}
		files[flag] = value;
	}
	return files;
}
