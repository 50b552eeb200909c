/**
 * The command line as a function: arguments and streams in, exit code out. The entry file wires it
 * to the process (signals, exit); tests spawn that entry as a real child process.
 */
import { closeSprintHubAccounts } from '../engine';
import { parseCommandLine, type OptionSpec } from './commandLine';
import { runCommand, type CommandContext } from './commands';
import { loadEnvironment } from './config';
import { secretsOf } from './lastResort';
import { describeFailure, EXIT, UsageError } from './errors';
import { HELP } from './help';
import { Output, type Stream } from './output';
import packageJson from '../package.json';

export interface CliIo {
	stdout: Stream;
	stderr: Stream;
	env: NodeJS.ProcessEnv;
	cwd: string;
	/** Fires on Ctrl-C: runs stop at the next safe point, checkpointed and recorded as cancelled. */
	signal: AbortSignal;
	/** Standard input as text, for `--token-file -` (default: the process's). */
	readStdin?: () => string;
}

const OPTIONS = {
	help: { type: 'boolean', short: 'h' },
	version: { type: 'boolean' },
	json: { type: 'boolean' },
	progress: { type: 'string' },
	'env-file': { type: 'string' },
	'sprinthub-url': { type: 'string' },
	instance: { type: 'string' },
	token: { type: 'string' },
	'token-file': { type: 'string' },
	'supabase-url': { type: 'string' },
	'supabase-key': { type: 'string' },
	'supabase-key-file': { type: 'string' },
	schema: { type: 'string' },
	enrichment: { type: 'string' },
	'full-refresh': { type: 'boolean' },
	'dry-run': { type: 'boolean' },
	rate: { type: 'string' },
	patience: { type: 'string' },
	'db-patience': { type: 'string' },
	concurrency: { type: 'string' },
	'batch-size': { type: 'string' },
	'page-size': { type: 'string' },
	parallel: { type: 'string' },
	'max-segments': { type: 'string' },
	name: { type: 'string' },
	schedule: { type: 'string' },
	timezone: { type: 'string' },
	'full-refresh-days': { type: 'string' },
	html: { type: 'string' },
	days: { type: 'string' },
} as const satisfies OptionSpec;

export type OptionName = keyof typeof OPTIONS;

const CONNECTION_OPTIONS: OptionName[] = [
	'help',
	'json',
	'env-file',
	'sprinthub-url',
	'instance',
	'token',
	'token-file',
	'supabase-url',
	'supabase-key',
	'supabase-key-file',
	'schema',
];
const RUN_OPTIONS: OptionName[] = [
	'progress',
	'enrichment',
	'full-refresh',
	'dry-run',
	'rate',
	'patience',
	'db-patience',
	'concurrency',
	'batch-size',
	'page-size',
	'parallel',
];

/** Which options each command accepts (anything else is a usage error, not silently ignored). */
const ACCEPTS: Record<string, OptionName[]> = {
	sync: [...CONNECTION_OPTIONS, ...RUN_OPTIONS],
	'sync-due': [...CONNECTION_OPTIONS, ...RUN_OPTIONS, 'max-segments'],
	status: CONNECTION_OPTIONS,
	report: [...CONNECTION_OPTIONS, 'html', 'days', 'rate'],
	'segments list': CONNECTION_OPTIONS,
	'segments add': [...CONNECTION_OPTIONS, 'name', 'schedule', 'timezone', 'enrichment', 'full-refresh-days'],
	'segments pause': CONNECTION_OPTIONS,
	'segments resume': CONNECTION_OPTIONS,
	'segments reschedule': [...CONNECTION_OPTIONS, 'timezone'],
	'leads get': CONNECTION_OPTIONS,
	prune: CONNECTION_OPTIONS,
	'account show': CONNECTION_OPTIONS,
	'account rate': CONNECTION_OPTIONS,
};

const GROUPS: Record<string, string[]> = {
	segments: ['list', 'add', 'pause', 'resume', 'reschedule'],
	leads: ['get'],
	account: ['show', 'rate'],
};

export async function runCli(argv: string[], io: CliIo): Promise<number> {
	const output = new Output(io.stdout, io.stderr);
	let supabaseUrl: string | undefined;
	try {
		const parsed = parseCommandLine(argv, OPTIONS);
		const flags = parsed.flags;
		// Known before anything can fail, so that no message (not even an unexpected one) shows them.
		for (const secret of secretsOf(flags, io.env)) output.addSecret(secret);
		const positionals = [...parsed.positionals];
		if (parsed.unknownOptions.length > 0) throw new UsageError(unknownOptionMessage(parsed.unknownOptions, positionals));
		if (flags.version) {
			output.line(packageVersion());
			return EXIT.success;
		}
		const first = positionals.shift();
		if (!first) {
			if (flags.help) {
				output.line(HELP.main);
				return EXIT.success;
			}
			output.info(HELP.main);
			return EXIT.usage;
		}
		if (first === 'help') {
			output.line(HELP[positionals[0] ?? 'main'] ?? HELP.main);
			return EXIT.success;
		}
		let command = first;
		if (GROUPS[first]) {
			const sub = positionals.shift();
			if (!sub || !GROUPS[first].includes(sub)) {
				if (flags.help && !sub) {
					output.line(HELP[first]);
					return EXIT.success;
				}
				throw new UsageError(
					`${sub ? `Unknown command "${first} ${sub}"` : `"${first}" needs a subcommand`}: use one of ${GROUPS[first].map((s) => `${first} ${s}`).join(', ')}.`,
				);
			}
			command = `${first} ${sub}`;
		}
		if (!ACCEPTS[command]) throw new UsageError(`Unknown command "${first}". Run "sprinthub-sync --help" for the commands.`);
		if (flags.help) {
			output.line(HELP[first] ?? HELP.main);
			return EXIT.success;
		}
		for (const name of Object.keys(flags)) {
			if (!ACCEPTS[command].includes(name as OptionName)) {
				throw new UsageError(`--${name} does not apply to "${command}". Run "sprinthub-sync ${first} --help".`);
			}
		}
		const environment = loadEnvironment(io.env, io.cwd, typeof flags['env-file'] === 'string' ? flags['env-file'] : undefined, flags, io.readStdin);
		for (const secret of secretsOf(flags, environment)) output.addSecret(secret);
		for (const warning of environment.secretFiles.warnings ?? []) output.info(`sprinthub-sync: warning: ${warning}`);
		supabaseUrl = (flags['supabase-url'] as string | undefined) ?? environment.get('SUPABASE_URL') ?? environment.get('VITE_SUPABASE_URL');
		const context: CommandContext = { output, flags, args: positionals, environment, signal: io.signal };
		return await runCommand(command, context);
	} catch (error) {
		const { message, exitCode } = describeFailure(error, supabaseUrl);
		output.info(`sprinthub-sync: ${message}`);
		if (io.env.SPRINTHUB_SYNC_DEBUG && error instanceof Error && error.stack) output.info(error.stack);
		return exitCode;
	} finally {
		// Keep-alive sockets to SprintHub would otherwise hold the process open.
		await closeSprintHubAccounts().catch(() => undefined);
	}
}

/** Which option is unknown, and whose --help lists the right ones (the command's when it is one). */
function unknownOptionMessage(unknown: string[], positionals: string[]): string {
	const [first, sub] = positionals;
	const command = first && GROUPS[first]?.includes(sub) ? `${first} ${sub}` : first;
	const options = unknown.map((option) => `'${option}'`).join(', ');
	const what = `Unknown option${unknown.length > 1 ? 's' : ''} ${options}`;
	if (command && ACCEPTS[command]) return `${what} for "${command}": run "sprinthub-sync ${first} --help" for its options.`;
	return `${what}: run "sprinthub-sync --help" for the commands and options.`;
}

function packageVersion(): string {
	return `${packageJson.name} ${packageJson.version}`;
}
