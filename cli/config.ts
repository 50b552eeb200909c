/**
 * Where the command line's settings come from: flags first, then the process environment, then a
 * `.env` file in the working directory. The original system's VITE_* names are accepted so that an
 * existing `.env` works as it is.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { schemaNameProblem } from '../engine';
import { UsageError } from './errors';
import { readSecretFiles, type SecretFiles } from './secretFiles';

export const DEFAULT_SPRINTHUB_BASE_URL = 'https://sprinthub-api-master.sprinthub.app';

/**
 * Each setting, the flag that sets it, the variables read for it (in order of preference) and an
 * example value for the messages (for the secrets only their shape: a message never echoes a value).
 */
export const SETTINGS = {
	sprinthubBaseUrl: {
		flag: 'sprinthub-url',
		variables: ['SPRINTHUB_BASE_URL', 'VITE_SPRINTHUB_BASE_URL'],
		what: 'SprintHub base URL',
		example: DEFAULT_SPRINTHUB_BASE_URL,
	},
	sprinthubInstance: {
		flag: 'instance',
		variables: ['SPRINTHUB_INSTANCE', 'VITE_SPRINTHUB_INSTANCE'],
		what: 'SprintHub instance',
		example: "acme (the account's subdomain)",
	},
	sprinthubToken: {
		flag: 'token',
		fileFlag: 'token-file',
		variables: ['SPRINTHUB_API_TOKEN', 'VITE_SPRINTHUB_API_TOKEN'],
		what: 'SprintHub API token',
		example: '123e4567-e89b-42d3-a456-426614174000 (a UUID)',
	},
	supabaseUrl: {
		flag: 'supabase-url',
		variables: ['SUPABASE_URL', 'VITE_SUPABASE_URL'],
		what: 'Supabase project URL',
		example: 'https://abcd.supabase.co',
	},
	supabaseKey: {
		flag: 'supabase-key',
		fileFlag: 'supabase-key-file',
		variables: ['SUPABASE_SERVICE_ROLE_KEY', 'VITE_SUPABASE_SERVICE_ROLE_KEY'],
		what: 'Supabase service role key',
		example: 'sb_secret_… (or, for older projects, the service_role JWT eyJ…)',
	},
} as const;

export type SettingName = keyof typeof SETTINGS;

export interface SprintHubSettings {
	baseUrl: string;
	instance: string;
	token: string;
}

export interface SupabaseSettings {
	url: string;
	serviceRoleKey: string;
	schema?: string;
}

/** Variables as the CLI sees them: the process environment over the `.env` file. */
export interface Environment {
	get(name: string): string | undefined;
	/** The `.env` file read, if any (shown in messages so users know where a value came from). */
	readonly envFile: string | null;
	/** Secrets read from --token-file / --supabase-key-file (a file or standard input). */
	readonly secretFiles: SecretFiles;
}

export function loadEnvironment(
	env: NodeJS.ProcessEnv,
	cwd: string,
	envFileFlag?: string,
	flags: Record<string, unknown> = {},
	readStdin?: () => string,
): Environment {
	let fileValues: Record<string, string> = {};
	let envFile: string | null = null;
	const path = envFileFlag ? resolve(cwd, envFileFlag) : join(cwd, '.env');
	if (envFileFlag && !existsSync(path)) {
		throw new UsageError(`The env file ${envFileFlag} does not exist: fix the --env-file path.`);
	}
	if (existsSync(path)) {
		try {
			fileValues = parseDotEnv(readFileSync(path, 'utf8'));
			envFile = path;
		} catch (error) {
			throw new UsageError(`Cannot read ${path}: ${(error as Error).message}`);
		}
	}
	return {
		envFile,
		secretFiles: readSecretFiles(flags, cwd, readStdin),
		get: (name) => {
			const value = env[name] ?? fileValues[name];
			return value === undefined || value.trim() === '' ? undefined : value.trim();
		},
	};
}

/**
 * A small `.env` reader: KEY=VALUE lines, `export ` prefixes, # comments, single quotes (literal),
 * double quotes (\n, \t, \", \\ escapes, may span lines) and unquoted values with trailing comments.
 */
export function parseDotEnv(text: string): Record<string, string> {
	const values: Record<string, string> = {};
	const source = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
	let index = 0;
	while (index < source.length) {
		const lineEnd = source.indexOf('\n', index) === -1 ? source.length : source.indexOf('\n', index);
		const line = source.slice(index, lineEnd);
		const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*/.exec(line);
		if (!match) {
			index = lineEnd + 1;
			continue;
		}
		const key = match[1];
		const valueStart = index + match[0].length;
		const quote = source[valueStart];
		if (quote === '"' || quote === "'") {
			let cursor = valueStart + 1;
			let value = '';
			while (cursor < source.length && source[cursor] !== quote) {
				if (quote === '"' && source[cursor] === '\\' && cursor + 1 < source.length) {
					const next = source[cursor + 1];
					value += next === 'n' ? '\n' : next === 't' ? '\t' : next === 'r' ? '\r' : next;
					cursor += 2;
					continue;
				}
				value += source[cursor];
				cursor += 1;
			}
			values[key] = value;
			const closingLineEnd = source.indexOf('\n', cursor);
			index = closingLineEnd === -1 ? source.length : closingLineEnd + 1;
			continue;
		}
		values[key] = line
			.slice(match[0].length)
			.replace(/\s+#.*$/, '')
			.trim();
		index = lineEnd + 1;
	}
	return values;
}

/** A setting from its flag, its file flag (secrets) or its variables; undefined when none is set. */
export function settingValue(name: SettingName, flags: Record<string, unknown>, environment: Environment): string | undefined {
	return settingWithSource(name, flags, environment)?.value;
}

/** A setting and where it came from: `--flag`, `--flag-file` or the variable's name. */
export function settingWithSource(name: SettingName, flags: Record<string, unknown>, environment: Environment): { value: string; source: string } | undefined {
	const setting = SETTINGS[name];
	const flag = flags[setting.flag];
	if (typeof flag === 'string' && flag.trim() !== '') return { value: flag.trim(), source: `--${setting.flag}` };
	if ('fileFlag' in setting) {
		const fromFile = environment.secretFiles[setting.fileFlag];
		if (fromFile !== undefined) return { value: fromFile, source: `--${setting.fileFlag}` };
	}
	for (const variable of setting.variables) {
		const value = environment.get(variable);
		if (value !== undefined) return { value, source: variable };
	}
	return undefined;
}

/**
 * Every one of these settings that is not set, reported at once (one run tells all there is to set):
 * one line for one setting, a line per setting when there are more.
 */
export function requireSettings(names: SettingName[], flags: Record<string, unknown>, environment: Environment): void {
	const missing = names.filter((name) => settingValue(name, flags, environment) === undefined);
	if (missing.length === 0) return;
	const where = environment.envFile ? `the environment or ${environment.envFile}` : 'the environment or a .env file';
	if (missing.length === 1) {
		const setting = SETTINGS[missing[0]];
		throw new UsageError(
			`The ${setting.what} is not set: set ${setting.variables[0]} (or ${setting.variables[1]}) in ${where}, or pass ${flagHint(missing[0])}; e.g. ${setting.example}.`,
		);
	}
	const lines = missing.map((name) => {
		const setting = SETTINGS[name];
		return `  ${setting.variables[0]} (or ${setting.variables[1]}, or ${flagHint(name)}): the ${setting.what}, e.g. ${setting.example}`;
	});
	throw new UsageError([`${missing.length} settings are not set; set them in ${where}:`, ...lines].join('\n'));
}

export function sprintHubSettings(flags: Record<string, unknown>, environment: Environment): SprintHubSettings {
	requireSettings(['sprinthubInstance', 'sprinthubToken'], flags, environment);
	return {
		baseUrl: settingValue('sprinthubBaseUrl', flags, environment) ?? DEFAULT_SPRINTHUB_BASE_URL,
		instance: settingValue('sprinthubInstance', flags, environment)!,
		token: settingValue('sprinthubToken', flags, environment)!,
	};
}

/** Whether SprintHub is configured at all (commands that can do without it use it when it is). */
export function sprintHubConfigured(flags: Record<string, unknown>, environment: Environment): boolean {
	return settingValue('sprinthubInstance', flags, environment) !== undefined || settingValue('sprinthubToken', flags, environment) !== undefined;
}

/** SprintHub settings when instance and token are both there (commands that can do without). */
export function optionalSprintHubSettings(flags: Record<string, unknown>, environment: Environment): SprintHubSettings | null {
	return sprintHubConfigured(flags, environment) ? sprintHubSettings(flags, environment) : null;
}

export function supabaseSettings(flags: Record<string, unknown>, environment: Environment): SupabaseSettings {
	requireSettings(['supabaseUrl', 'supabaseKey'], flags, environment);
	const url = settingValue('supabaseUrl', flags, environment)!;
	const serviceRoleKey = settingValue('supabaseKey', flags, environment)!;
	const schemaFlag = typeof flags.schema === 'string' ? flags.schema.trim() : undefined;
	if (schemaFlag === '') throw new UsageError('--schema is empty: give the schema of the sync tables, e.g. --schema public (or leave the flag out).');
	const schema = schemaFlag ?? environment.get('SPRINTHUB_SYNC_SCHEMA');
	const schemaProblem = schema === undefined ? null : schemaNameProblem(schema);
	if (schemaProblem) throw new UsageError(`${schemaFlag !== undefined ? '--schema' : 'SPRINTHUB_SYNC_SCHEMA'} ${schemaProblem}`);
	if (!/^https?:\/\//i.test(url) && /\s/.test(url)) throw new UsageError('The Supabase project URL contains spaces: check SUPABASE_URL.');
	return { url, serviceRoleKey, schema };
}

/** The flag a message suggests: for a secret its file flag, since a secret typed as a flag shows in ps and shell history. */
function flagHint(name: SettingName): string {
	const setting = SETTINGS[name];
	return 'fileFlag' in setting ? `--${setting.fileFlag} FILE` : `--${setting.flag}`;
}
