/**
 * Secrets for redaction before the settings are read, and the entry's last-resort error handler: an
 * error that escapes runCli (or no promise at all) is printed as one line, redacted like every other
 * path, never with a stack.
 */
import { redactSecrets } from '../engine';
import { SETTINGS, type Environment } from './config';

/** Every secret the process has met (the Output registers each one here too). */
const remembered = new Set<string>();

export function rememberSecret(secret: string | undefined): void {
	if (secret) remembered.add(secret);
}

const SECRET_SETTINGS = [SETTINGS.sprinthubToken, SETTINGS.supabaseKey];

/** The token and the key wherever they may be given: their flags, their variables, their files. */
export function secretsOf(flags: Record<string, unknown>, environment: Pick<Environment, 'get'> & Partial<Pick<Environment, 'secretFiles'>> | NodeJS.ProcessEnv): string[] {
	const lookup = typeof environment.get === 'function' ? (name: string) => (environment as Pick<Environment, 'get'>).get(name) : (name: string) => (environment as NodeJS.ProcessEnv)[name];
	const found: string[] = [];
	for (const setting of SECRET_SETTINGS) {
		const flag = flags[setting.flag];
		if (typeof flag === 'string') found.push(flag);
		for (const variable of setting.variables) {
			const value = lookup(variable);
			if (typeof value === 'string') found.push(value);
		}
		const files = (environment as Partial<Pick<Environment, 'secretFiles'>>).secretFiles;
		const fromFile = files?.[setting.fileFlag];
		if (fromFile) found.push(fromFile);
	}
	return found.filter((secret) => secret.trim() !== '');
}

/** Flag values as typed (`--token X` and `--token=X`), for a failure before the arguments were parsed. */
function flagValuesOf(argv: string[]): Record<string, unknown> {
	const flags: Record<string, unknown> = {};
	argv.forEach((word, index) => {
		for (const setting of SECRET_SETTINGS) {
			if (word === `--${setting.flag}` && index + 1 < argv.length) flags[setting.flag] = argv[index + 1];
			if (word.startsWith(`--${setting.flag}=`)) flags[setting.flag] = word.slice(setting.flag.length + 3);
		}
	});
	return flags;
}

/** The one line the entry prints for an error nothing else caught. */
export function lastResortLine(error: unknown, argv: string[], env: NodeJS.ProcessEnv): string {
	const message = error instanceof Error ? error.message : String(error);
	const secrets = [...remembered, ...secretsOf(flagValuesOf(argv), env)];
	return `sprinthub-sync: unexpected error: ${redactSecrets(message.split('\n')[0], secrets)}\n`;
}
