/**
 * What a user types into the command line, checked where it enters (exit 2, one line naming the flag or
 * variable), and the secrets: read from a file or standard input, never printed, not even by the
 * last-resort handler. Real child processes of the bundled CLI against the real stack and simulator.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCliBundle, worldEnv } from '../support/cliProcesses';
import { startSyncWorld, type SyncWorld } from '../support/world';

interface CliRun {
	code: number | null;
	stdout: string;
	stderr: string;
}

let world: SyncWorld;
let workDir: string;
let bundle: string;

beforeAll(async () => {
	world = await startSyncWorld({ seed: 13, segments: [{ id: 401, name: 'Typed', size: 20 }] });
	workDir = mkdtempSync(join(tmpdir(), 'sprinthub-cli-inputs-'));
	bundle = await buildCliBundle(workDir);
});

afterAll(async () => {
	await world?.stop();
	if (workDir) rmSync(workDir, { recursive: true, force: true });
});

function cli(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; preload?: string } = {}): Promise<CliRun> {
	const child = spawn(process.execPath, [...(options.preload ? ['--require', options.preload] : []), bundle, ...args], {
		cwd: workDir,
		env: options.env ?? worldEnv(world),
		stdio: ['pipe', 'pipe', 'pipe'],
	});
	const run: CliRun = { code: null, stdout: '', stderr: '' };
	child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
	child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
	child.stdin.end(options.input ?? '');
	return new Promise((resolve) =>
		child.once('close', (code) => {
			run.code = code;
			resolve(run);
		}),
	);
}

/** The world's environment without the token and the key: they come from elsewhere. */
function envWithoutSecrets(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
	const env = worldEnv(world);
	delete env.SPRINTHUB_API_TOKEN;
	delete env.SUPABASE_SERVICE_ROLE_KEY;
	return { ...env, ...extra };
}

function secretFile(name: string, content: string, mode = 0o600): string {
	const path = join(workDir, name);
	writeFileSync(path, content);
	chmodSync(path, mode);
	return path;
}

function expectNoSecrets(run: CliRun): void {
	for (const secret of [world.sim.token, world.stack.serviceRoleKey]) {
		expect(run.stdout).not.toContain(secret);
		expect(run.stderr).not.toContain(secret);
	}
}

function expectUsage(run: CliRun, pattern: RegExp): void {
	expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(pattern) });
	expect(run.stderr.trim().split('\n')).toHaveLength(1);
	expectNoSecrets(run);
}

describe('the token and the key from a file or standard input', () => {
	test('--token-file and --supabase-key-file read them; nothing is printed of them', async () => {
		const token = secretFile('token', `${world.sim.token}\n`);
		const key = secretFile('key', `${world.stack.serviceRoleKey}\n`);
		const lead = world.sim.truth.segmentMemberIds(401)[0];
		const [leadRun, statusRun] = await Promise.all([
			cli(['leads', 'get', String(lead), '--token-file', token], { env: envWithoutSecrets() }),
			cli(['status', '--json', '--supabase-key-file', key], { env: envWithoutSecrets() }),
		]);
		expect(leadRun.code).toBe(0);
		expect(JSON.parse(leadRun.stdout)).toMatchObject({ id: lead });
		expect(statusRun).toMatchObject({ code: 0, stderr: '' });
		expect(Array.isArray(JSON.parse(statusRun.stdout))).toBe(true);
		expectNoSecrets(leadRun);
		expectNoSecrets(statusRun);
	});

	test('- reads standard input', async () => {
		const run = await cli(['status', '--json', '--supabase-key-file', '-'], { env: envWithoutSecrets(), input: `${world.stack.serviceRoleKey}\n` });
		expect(run).toMatchObject({ code: 0, stderr: '' });
		const piped = await cli(['leads', 'get', String(world.sim.truth.segmentMemberIds(401)[1]), '--token-file=-'], { env: envWithoutSecrets(), input: world.sim.token });
		expect(piped.code).toBe(0);
	});

	test('a file other users can read works, with a warning saying how to close it', async () => {
		const key = secretFile('open-key', world.stack.serviceRoleKey, 0o644);
		const run = await cli(['status', '--json', '--supabase-key-file', key], { env: envWithoutSecrets() });
		expect(run.code).toBe(0);
		expect(run.stderr.trim()).toBe(`sprinthub-sync: warning: ${key} can be read by other users of this machine: chmod 600 ${key}`);
	});

	test('a missing, empty or malformed file, two sources or two readers of stdin: exit 2 naming the flag', async () => {
		const empty = secretFile('empty', '\n');
		const dotenvStyle = secretFile('dotenv-style', `SUPABASE_SERVICE_ROLE_KEY=${world.stack.serviceRoleKey}\n`);
		const twoLines = secretFile('two-lines', `${world.sim.token}\nsomething else\n`);
		const token = secretFile('token-again', world.sim.token);
		const runs = await Promise.all([
			cli(['status', '--supabase-key-file', join(workDir, 'nope')], { env: envWithoutSecrets() }),
			cli(['status', '--supabase-key-file', empty], { env: envWithoutSecrets() }),
			cli(['status', '--supabase-key-file', dotenvStyle], { env: envWithoutSecrets() }),
			cli(['leads', 'get', '5', '--token-file', twoLines], { env: envWithoutSecrets() }),
			cli(['leads', 'get', '5', '--token-file', token, '--token', world.sim.token], { env: envWithoutSecrets() }),
			cli(['status', '--token-file', '-', '--supabase-key-file', '-'], { env: envWithoutSecrets(), input: 'x' }),
			cli(['status', '--supabase-key-file', '-'], { env: envWithoutSecrets(), input: '' }),
		]);
		expectUsage(runs[0], /Cannot read --supabase-key-file \S+nope: there is no such file\. Give the file that holds the Supabase service role key\./);
		expectUsage(runs[1], /--supabase-key-file: \S+empty is empty; it must hold the Supabase service role key\./);
		expectUsage(runs[2], /--supabase-key-file: \S+dotenv-style must hold the Supabase service role key alone, on one line/);
		expectUsage(runs[3], /--token-file: \S+two-lines must hold the SprintHub API token alone/);
		expectUsage(runs[4], /--token and --token-file both give the SprintHub API token: keep one \(--token-file\)\./);
		expectUsage(runs[5], /Only one of --token-file and --supabase-key-file can read standard input/);
		expectUsage(runs[6], /--supabase-key-file: standard input is empty/);
	});

	test('--help says the environment or .env is the better place than a flag, and offers the files', async () => {
		const run = await cli(['--help']);
		expect(run.code).toBe(0);
		expect(run.stdout).toContain('--token-file FILE     SPRINTHUB_API_TOKEN or VITE_SPRINTHUB_API_TOKEN, read from FILE (- for standard input)');
		expect(run.stdout).toMatch(/--supabase-key-file FILE\s+SUPABASE_SERVICE_ROLE_KEY \(service role \/ secret key\), read from FILE/);
		expect(run.stdout).toMatch(/a secret typed as a flag shows in ps and in the shell's history: keep\s+the token and the key in the environment or in \.env/);
	});

	test('a missing token asks for the variable or the file flag, not the plain flag', async () => {
		const run = await cli(['leads', 'get', '5'], { env: envWithoutSecrets() });
		expectUsage(run, /The SprintHub API token is not set: set SPRINTHUB_API_TOKEN \(or VITE_SPRINTHUB_API_TOKEN\) in .*, or pass --token-file FILE;/);
	});
});

describe('the service role key under a VITE_* name', () => {
	test('works, with a warning that bundlers put VITE_* variables into browser code', async () => {
		const [vite, plain] = await Promise.all([
			cli(['status', '--json'], { env: envWithoutSecrets({ SPRINTHUB_API_TOKEN: world.sim.token, VITE_SUPABASE_SERVICE_ROLE_KEY: world.stack.serviceRoleKey }) }),
			cli(['status', '--json']),
		]);
		expect(vite.code).toBe(0);
		expect(vite.stderr).toMatch(/^sprinthub-sync: warning: the service role key comes from VITE_SUPABASE_SERVICE_ROLE_KEY\. Bundlers such as Vite put every VITE_\* variable into the browser code .*Rename it to SUPABASE_SERVICE_ROLE_KEY/);
		expect(vite.stderr.trim().split('\n')).toHaveLength(1);
		expectNoSecrets(vite);
		expect(plain).toMatchObject({ code: 0, stderr: '' });
	});
});

describe('values checked where they enter', () => {
	test('a schema name that is not an identifier, from the flag or the variable', async () => {
		const [flag, variable, empty] = await Promise.all([
			cli(['status', '--schema', 'sync data']),
			cli(['status'], { env: { ...worldEnv(world), SPRINTHUB_SYNC_SCHEMA: '2024' } }),
			cli(['status', '--schema=']),
		]);
		expectUsage(flag, /^sprinthub-sync: --schema "sync data" is not a schema name: use letters, digits and underscores .*e\.g\. public\.$/m);
		expectUsage(variable, /^sprinthub-sync: SPRINTHUB_SYNC_SCHEMA "2024" is not a schema name/m);
		expectUsage(empty, /--schema is empty/);
	});

	test('--full-refresh-days 0 means never; a schedule more often than once a minute is refused with its hint', async () => {
		const added = await cli(['segments', 'add', '401', '--full-refresh-days', '0', '--json']);
		expect(added.code).toBe(0);
		expect(JSON.parse(added.stdout)).toEqual([expect.objectContaining({ segment_id: 401, full_refresh_days: null })]);
		const [fast, negative] = await Promise.all([
			cli(['segments', 'reschedule', '401', '1 microsecond']),
			cli(['segments', 'add', '401', '--full-refresh-days', '-1']),
		]);
		expectUsage(fast, /the schedule '1 microsecond' runs more often than once a minute\. The shortest schedule is 1 minute/);
		expectUsage(negative, /--full-refresh-days needs an integer from 0 to 3650, not "-1"/);
	});
});

describe('the last-resort error handler', () => {
	test('an error that escapes everything is one line, without the key, the token or a stack', async () => {
		// Something deep inside throws outside any promise chain, with the key in its message (as a
		// library might echo a request) and, in the rejection, the token the user passed as a flag.
		const preload = join(workDir, 'throw-later.js');
		writeFileSync(
			preload,
			`const argv = process.argv;
			 const token = argv[argv.indexOf('--token') + 1];
			 setImmediate(() => {
			   if (process.env.THROW_KIND === 'rejection') Promise.reject(new Error('request failed: apitoken ' + token + ' refused'));
			   else throw new Error('socket closed while sending key ' + process.env.SUPABASE_SERVICE_ROLE_KEY + '\\n  at secret place');
			 });`,
		);
		const [thrown, rejected] = await Promise.all([
			cli(['status'], { preload, env: { ...worldEnv(world), THROW_KIND: 'exception' } }),
			cli(['leads', 'get', '5', '--token', world.sim.token], { preload, env: { ...envWithoutSecrets({ SUPABASE_SERVICE_ROLE_KEY: world.stack.serviceRoleKey }), THROW_KIND: 'rejection' } }),
		]);
		expect(thrown).toMatchObject({ code: 1, stderr: 'sprinthub-sync: unexpected error: socket closed while sending key [REDACTED]\n' });
		expect(rejected).toMatchObject({ code: 1, stderr: 'sprinthub-sync: unexpected error: request failed: apitoken [REDACTED] refused\n' });
		expectNoSecrets(thrown);
		expectNoSecrets(rejected);
	});
});
