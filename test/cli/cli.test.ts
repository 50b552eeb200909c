/**
 * The command line as a user runs it: a real child process against the real stack (Postgres +
 * PostgREST + gateway) and the SprintHub simulator. Checks exit codes, the one-line messages for every
 * kind of bad input, SIGINT cancellation, and that the token and the key are never printed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { freePort } from '../support/net';
import { startStack } from '../support/stack';
import { startSyncWorld, truthMemberIds, type SyncWorld } from '../support/world';

const ROOT = join(__dirname, '..', '..');
const CLI_ENTRY = join(ROOT, 'cli', 'sprinthub-sync.ts');
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
/** The CLI bundled as the build bundles it (gulpfile.js): what `sprinthub-sync` runs, and it starts in a quarter second. */
let bundle: string;

/** The simulator here does not throttle; the CLI's default budget (80/min) would make every run minutes long. */
const FAST = ['--rate', '60000'];

interface CliRun {
	code: number | null;
	stdout: string;
	stderr: string;
}

let world: SyncWorld;
let workDir: string;

/** The environment a user would have: this world's five settings and nothing else of ours. */
function worldEnv(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [key, value] of Object.entries(process.env)) {
		if (!/^(VITE_)?(SPRINTHUB|SUPABASE)_/.test(key)) env[key] = value;
	}
	Object.assign(env, {
		SPRINTHUB_BASE_URL: world.sim.baseUrl,
		SPRINTHUB_INSTANCE: world.sim.instance,
		SPRINTHUB_API_TOKEN: world.sim.token,
		SUPABASE_URL: world.stack.supabaseUrl,
		SUPABASE_SERVICE_ROLE_KEY: world.stack.serviceRoleKey,
	});
	for (const [key, value] of Object.entries(overrides)) {
		if (value === undefined) delete env[key];
		else env[key] = value;
	}
	return env;
}

const children = new Set<ReturnType<typeof spawn>>();

function startCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; fromSource?: boolean } = {}) {
	const entry = options.fromSource ? ['--import', TSX_LOADER, CLI_ENTRY] : [bundle];
	const child = spawn(process.execPath, [...entry, ...args], {
		cwd: options.cwd ?? workDir,
		env: options.env ?? worldEnv(),
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	children.add(child);
	const run: CliRun = { code: null, stdout: '', stderr: '' };
	child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
	child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
	const done = new Promise<CliRun>((resolve) =>
		child.once('close', (code) => {
			run.code = code;
			children.delete(child);
			resolve(run);
		}),
	);
	return { child, run, done };
}

function cli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; fromSource?: boolean } = {}): Promise<CliRun> {
	return startCli(args, options).done;
}

/** A failure is one line on stderr, without a stack trace and without secrets. */
function expectOneLineError(run: CliRun, code: number, pattern: RegExp): void {
	expect({ code: run.code, stderr: run.stderr }).toEqual({ code, stderr: expect.stringMatching(pattern) });
	expect(run.stderr.trim().split('\n')).toHaveLength(1);
	expect(run.stderr).not.toMatch(/^\s+at /m);
	expectNoSecrets(run);
}

function expectNoSecrets(run: CliRun): void {
	for (const secret of [world.sim.token, world.stack.serviceRoleKey]) {
		expect(run.stdout).not.toContain(secret);
		expect(run.stderr).not.toContain(secret);
	}
}

async function waitUntil(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!condition()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

beforeAll(async () => {
	world = await startSyncWorld({
		seed: 11,
		segments: [
			{ id: 201, name: 'Hot leads', size: 300 },
			{ id: 202, name: 'Cold leads', size: 150 },
			{ id: 203, name: 'Never registered', size: 40 },
			{ id: 204, name: 'Slow one', size: 400 },
		],
	});
	workDir = mkdtempSync(join(tmpdir(), 'sprinthub-cli-test-'));
	bundle = join(workDir, 'sprinthub-sync.js');
	await esbuild.build({
		entryPoints: [CLI_ENTRY],
		outfile: bundle,
		bundle: true,
		platform: 'node',
		target: 'node20',
		format: 'cjs',
		external: ['n8n-workflow', 'bufferutil', 'utf-8-validate'],
		banner: { js: '#!/usr/bin/env node' },
		logLevel: 'error',
	});
});

afterAll(async () => {
	for (const child of children) child.kill('SIGKILL');
	await world?.stop();
	if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('usage', () => {
	test('every command has --help on stdout with exit 0; no command prints the help on stderr with exit 2', async () => {
		const [main, sync, due, status, segments, leads, none] = await Promise.all([
			// `npm run cli` runs the source with tsx; the rest run the bundle.
			cli(['--help'], { fromSource: true }),
			cli(['sync', '--help']),
			cli(['sync-due', '--help']),
			cli(['status', '--help']),
			cli(['segments', '--help']),
			cli(['leads', 'get', '--help']),
			cli([]),
		]);
		expect(main).toMatchObject({ code: 0, stdout: expect.stringContaining('sync <segmentId…>') });
		expect(main.stdout).toContain('VITE_SPRINTHUB_API_TOKEN');
		expect(sync).toMatchObject({ code: 0, stdout: expect.stringContaining('Usage: sprinthub-sync sync <segmentId…>') });
		expect(sync.stdout).toContain('--enrichment');
		expect(due).toMatchObject({ code: 0, stdout: expect.stringContaining('--max-segments') });
		expect(status).toMatchObject({ code: 0, stdout: expect.stringContaining('sync_segments_health') });
		expect(segments).toMatchObject({ code: 0, stdout: expect.stringContaining('segments reschedule') });
		expect(leads).toMatchObject({ code: 0, stdout: expect.stringContaining('leads get <leadId>') });
		expect(none).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining('Commands:') });
	});

	test('bad arguments and options are one line with exit 2', async () => {
		const runs = await Promise.all([
			cli(['sync', 'abc']),
			cli(['sync', '0']),
			cli(['sync', '1.5']),
			cli(['sync']),
			cli(['frobnicate']),
			cli(['segments', 'explode']),
			cli(['sync', '201', '--enrichment', 'sometimes']),
			cli(['sync', '201', '--rate', 'fast']),
			cli(['status', '--full-refresh']),
			cli(['sync', '201', '--bogus']),
			cli(['leads', 'get', 'x1']),
		]);
		const patterns = [
			/The segment id "abc" is not a positive integer/,
			/The segment id "0" is not a positive integer/,
			/The segment id "1\.5" is not a positive integer/,
			/Name at least one segment/,
			/Unknown command "frobnicate"/,
			/Unknown command "segments explode"/,
			/--enrichment is auto, changed, all or none, not "sometimes"/,
			/--rate needs a number .*not "fast"/,
			/--full-refresh does not apply to "status"/,
			/Unknown option '--bogus'/,
			/The lead id "x1" is not a positive integer/,
		];
		runs.forEach((run, index) => expectOneLineError(run, 2, patterns[index]));
	});

	test('an unknown option is named plainly with the help to read; a negative id is a bad id, not an option', async () => {
		const [bogus, bogusNoCommand, bogusSub, negative, negativeLead, negativePause, noValue, negativeRate] = await Promise.all([
			cli(['sync', '--bogus-flag']),
			cli(['--bogus-flag']),
			cli(['segments', 'add', '201', '--bogus-flag']),
			cli(['sync', '-1']),
			cli(['leads', 'get', '-3']),
			cli(['segments', 'pause', '201', '-12']),
			cli(['sync', '201', '--rate']),
			cli(['sync', '201', '--rate', '-5']),
		]);
		expectOneLineError(bogus, 2, /^sprinthub-sync: Unknown option '--bogus-flag' for "sync": run "sprinthub-sync sync --help" for its options\.\n$/);
		expectOneLineError(bogusNoCommand, 2, /^sprinthub-sync: Unknown option '--bogus-flag': run "sprinthub-sync --help" for the commands and options\.\n$/);
		expectOneLineError(bogusSub, 2, /Unknown option '--bogus-flag' for "segments add": run "sprinthub-sync segments --help"/);
		expectOneLineError(negative, 2, /The segment id "-1" is not a positive integer: use the numeric id from SprintHub/);
		expectOneLineError(negativeLead, 2, /The lead id "-3" is not a positive integer/);
		expectOneLineError(negativePause, 2, /The segment id "-12" is not a positive integer/);
		expectOneLineError(noValue, 2, /--rate needs a value/);
		expectOneLineError(negativeRate, 2, /--rate needs a number from 1 to 1000000, not "-5"/);
		// Node's own wording ("place it at the end of the command after '--', as in '-- "-1"'") is gone.
		for (const run of [bogus, bogusNoCommand, negative, negativeLead]) expect(run.stderr).not.toMatch(/positional|after '--'|Unknown option '-\d/);
	});

	test('an id too large is called too large, with the largest id accepted', async () => {
		const [segment, lead, justOver, largest] = await Promise.all([
			cli(['sync', '99999999999999999999']),
			cli(['leads', 'get', '99999999999999999999']),
			cli(['segments', 'pause', '9007199254740992']),
			cli(['sync', '9007199254740991']),
		]);
		expectOneLineError(segment, 2, /The segment id "99999999999999999999" is too large: the largest segment id accepted is 9007199254740991\./);
		expectOneLineError(lead, 2, /The lead id "99999999999999999999" is too large: the largest lead id accepted is 9007199254740991\./);
		expectOneLineError(justOver, 2, /The segment id "9007199254740992" is too large/);
		// The largest one is taken as an id: it gets as far as the database.
		expectOneLineError(largest, 2, /Segment 9007199254740991 is not registered/);
	});
});

describe('configuration', () => {
	test('a missing variable names the variable to set', async () => {
		const [noToken, noInstance, noSupabaseUrl, noKey] = await Promise.all([
			cli(['sync', '201'], { env: worldEnv({ SPRINTHUB_API_TOKEN: undefined }) }),
			cli(['leads', 'get', '5'], { env: worldEnv({ SPRINTHUB_INSTANCE: undefined }) }),
			cli(['status'], { env: worldEnv({ SUPABASE_URL: undefined }) }),
			cli(['status'], { env: worldEnv({ SUPABASE_SERVICE_ROLE_KEY: undefined }) }),
		]);
		expectOneLineError(noToken, 2, /SprintHub API token is not set: set SPRINTHUB_API_TOKEN \(or VITE_SPRINTHUB_API_TOKEN\)/);
		expectOneLineError(noInstance, 2, /SprintHub instance is not set: set SPRINTHUB_INSTANCE/);
		expectOneLineError(noSupabaseUrl, 2, /Supabase project URL is not set: set SUPABASE_URL/);
		expectOneLineError(noKey, 2, /Supabase service role key is not set: set SUPABASE_SERVICE_ROLE_KEY/);
	});

	test('every missing setting is named in one run, each with what to set and an example, and no secret is echoed', async () => {
		const [one, none, half, listHalf] = await Promise.all([
			cli(['leads', 'get', '5'], { env: worldEnv({ SPRINTHUB_API_TOKEN: undefined }) }),
			cli(['sync', '201'], {
				env: worldEnv({ SPRINTHUB_INSTANCE: undefined, SPRINTHUB_API_TOKEN: undefined, SUPABASE_URL: undefined, SUPABASE_SERVICE_ROLE_KEY: undefined }),
			}),
			cli(['sync', '201'], { env: worldEnv({ SPRINTHUB_INSTANCE: undefined, SUPABASE_SERVICE_ROLE_KEY: undefined }) }),
			// segments list can do without SprintHub, but half of it set is a mistake worth saying with the rest.
			cli(['segments', 'list'], { env: worldEnv({ SPRINTHUB_API_TOKEN: undefined, SUPABASE_URL: undefined }) }),
		]);
		expectOneLineError(one, 2, /The SprintHub API token is not set: .*, or pass --token-file FILE; e\.g\. [0-9a-f-]{36} \(a UUID\)\.$/m);
		expect(one.stderr).not.toContain('REDACTED');

		expect(none.code).toBe(2);
		expect(none.stderr.trimEnd().split('\n')).toEqual([
			'sprinthub-sync: 4 settings are not set; set them in the environment or a .env file:',
			expect.stringMatching(/^ {2}SPRINTHUB_INSTANCE \(or VITE_SPRINTHUB_INSTANCE, or --instance\): the SprintHub instance, e\.g\. acme\b/),
			expect.stringMatching(/^ {2}SPRINTHUB_API_TOKEN \(or VITE_SPRINTHUB_API_TOKEN, or --token-file FILE\): the SprintHub API token, e\.g\. \S+/),
			expect.stringMatching(/^ {2}SUPABASE_URL \(or VITE_SUPABASE_URL, or --supabase-url\): the Supabase project URL, e\.g\. https:\/\/abcd\.supabase\.co/),
			expect.stringMatching(/^ {2}SUPABASE_SERVICE_ROLE_KEY \(or VITE_SUPABASE_SERVICE_ROLE_KEY, or --supabase-key-file FILE\): the Supabase service role key, e\.g\. \S+/),
		]);
		expect(none.stderr).not.toContain('REDACTED');

		expect(half.code).toBe(2);
		const halfLines = half.stderr.trimEnd().split('\n');
		expect(halfLines).toHaveLength(3);
		expect(halfLines[0]).toBe('sprinthub-sync: 2 settings are not set; set them in the environment or a .env file:');
		expect(halfLines[1]).toMatch(/^ {2}SPRINTHUB_INSTANCE /);
		expect(halfLines[2]).toMatch(/^ {2}SUPABASE_SERVICE_ROLE_KEY /);
		expectNoSecrets(half);

		expect(listHalf.code).toBe(2);
		expect(listHalf.stderr.trimEnd().split('\n')).toEqual([
			'sprinthub-sync: 2 settings are not set; set them in the environment or a .env file:',
			expect.stringMatching(/^ {2}SPRINTHUB_API_TOKEN /),
			expect.stringMatching(/^ {2}SUPABASE_URL /),
		]);
		expectNoSecrets(listHalf);
	});

	test('the original system\'s VITE_* names in a .env file work; the process environment wins over the file', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'sprinthub-cli-env-'));
		try {
			writeFileSync(
				join(dir, '.env'),
				[
					'# as the original system had it',
					`VITE_SPRINTHUB_BASE_URL=${world.sim.baseUrl}`,
					`export VITE_SPRINTHUB_INSTANCE="${world.sim.instance}"`,
					`VITE_SPRINTHUB_API_TOKEN='${world.sim.token}'`,
					`VITE_SUPABASE_URL=${world.stack.supabaseUrl} # local`,
					`VITE_SUPABASE_SERVICE_ROLE_KEY=${world.stack.serviceRoleKey}`,
				].join('\n'),
			);
			const bare = worldEnv();
			for (const key of Object.keys(bare)) if (/^(SPRINTHUB|SUPABASE)_/.test(key)) delete bare[key];
			const lead = world.sim.truth.segmentMemberIds(201)[0];
			const [fromFile, overridden] = await Promise.all([
				cli(['leads', 'get', String(lead)], { env: bare, cwd: dir }),
				cli(['status'], { env: { ...bare, SUPABASE_SERVICE_ROLE_KEY: 'not-the-key-at-all' }, cwd: dir }),
			]);
			expect(fromFile.code).toBe(0);
			expect(JSON.parse(fromFile.stdout)).toMatchObject({ id: lead });
			expectNoSecrets(fromFile);
			expectOneLineError(overridden, 2, /rejected the key: set SUPABASE_SERVICE_ROLE_KEY/);
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});

	test('unreachable URLs, a wrong token, a wrong instance and a wrong key each get one line saying what to fix', async () => {
		const closedPort = await freePort();
		const [noSupabase, noSprintHub, wrongToken, wrongInstance, wrongKey] = await Promise.all([
			cli(['status'], { env: worldEnv({ SUPABASE_URL: `http://127.0.0.1:${closedPort}` }) }),
			cli(['leads', 'get', '5'], { env: worldEnv({ SPRINTHUB_BASE_URL: `http://127.0.0.1:${closedPort}` }) }),
			cli(['leads', 'get', '5'], { env: worldEnv({ SPRINTHUB_API_TOKEN: '00000000-1111-4222-a333-444444444444' }) }),
			cli(['leads', 'get', '5'], { env: worldEnv({ SPRINTHUB_INSTANCE: 'nobody' }) }),
			cli(['segments', 'list'], { env: worldEnv({ SUPABASE_SERVICE_ROLE_KEY: 'eyJhbGciOiJIUzI1NiJ9.e30.wrongsignature' }) }),
		]);
		expectOneLineError(noSupabase, 1, new RegExp(`Cannot reach Supabase at http://127\\.0\\.0\\.1:${closedPort}: check SUPABASE_URL`));
		expectOneLineError(noSprintHub, 1, new RegExp(`Cannot reach SprintHub at http://127\\.0\\.0\\.1:${closedPort}: check SPRINTHUB_BASE_URL`));
		expectOneLineError(wrongToken, 2, /SprintHub rejected the API token for instance "acme": check SPRINTHUB_API_TOKEN/);
		expect(wrongToken.stderr).not.toContain('00000000-1111-4222-a333-444444444444');
		expectOneLineError(wrongInstance, 2, /SprintHub does not know the instance "nobody": check SPRINTHUB_INSTANCE/);
		expectOneLineError(wrongKey, 2, /rejected the key: set SUPABASE_SERVICE_ROLE_KEY/);
		expect(wrongKey.stderr).not.toContain('wrongsignature');
	});

	test('a database without the migrations says to apply them', async () => {
		const empty = await startStack({ migrations: false });
		try {
			const run = await cli(['status'], { env: worldEnv({ SUPABASE_URL: empty.supabaseUrl, SUPABASE_SERVICE_ROLE_KEY: empty.serviceRoleKey }) });
			expectOneLineError(run, 2, /The sync tables are missing .*apply the migrations in supabase\/migrations/);
			expect(run.stderr).not.toContain(empty.serviceRoleKey);
		} finally {
			await empty.stop();
		}
	});
});

describe('segments, sync and status', () => {
	test('segments add takes the names from SprintHub and refuses a segment SprintHub does not have', async () => {
		const added = await cli(['segments', 'add', '201', '202', '--schedule', '6 hours']);
		expect(added.code).toBe(0);
		expect(added.stdout).toContain('Registered segment 201 "Hot leads": active, schedule 6 hours');
		expect(added.stdout).toContain('Registered segment 202 "Cold leads"');
		const rows = await world.stack.query<{ segment_id: string; segment_name: string }>(
			'select segment_id, segment_name from sync_segments_control order by segment_id',
		);
		expect(rows.map((row) => [Number(row.segment_id), row.segment_name])).toEqual([
			[201, 'Hot leads'],
			[202, 'Cold leads'],
		]);
		expectOneLineError(await cli(['segments', 'add', '999']), 2, /Segment 999 does not exist in SprintHub instance "acme"/);
	});

	test('sync of an unregistered segment says how to register it', async () => {
		expectOneLineError(await cli(['sync', '203']), 2, /Segment 203 is not registered: add it with "sprinthub-sync segments add 203"/);
	});

	test('sync --json prints the run summary, exits 0 and the database holds the segment', async () => {
		const run = await cli(['sync', '201', '--json', '--concurrency', '8', ...FAST]);
		expect(run.code).toBe(0);
		const summary = JSON.parse(run.stdout);
		const members = truthMemberIds(world.sim, 201);
		expect(summary).toMatchObject({ exitCode: 0, outcome: 'success', results: [{ segmentId: 201, status: 'success', complete: true }] });
		expect(summary.results[0].stats).toMatchObject({ leadsSeen: members.length, detailCalls: members.length, inserted: members.length });
		expect(await world.memberIds(201)).toEqual(members);
		// Not a terminal: progress comes as plain lines on stderr.
		expect(run.stderr).toMatch(/segment 201: page 0: [\d,]+ leads/);
		expect(run.stderr).toMatch(/segment 201: success in/);
		expectNoSecrets(run);
		const [log] = await world.stack.query<{ trigger: string; status: string }>(
			"select trigger, status from sync_segments_logs where segment_id = 201 order by execution_time desc limit 1",
		);
		expect(log).toEqual({ trigger: 'cli', status: 'success' });
	});

	test('a second sync is incremental and marks leavers; the human summary says so', async () => {
		const changed = world.sim.mutate.change({ segmentId: 201, count: 5 });
		const left = world.sim.mutate.leave(201, 4);
		const run = await cli(['sync', '201', ...FAST]);
		expect(run.code).toBe(0);
		expect(run.stdout).toMatch(/^Segment 201 "Hot leads": success in /m);
		const stillIn = changed.filter((id) => !left.includes(id) && truthMemberIds(world.sim, 201).includes(id)).length;
		// Changed leads, plus one call per leaver to learn whether SprintHub deleted it.
		expect(run.stdout).toContain(`${stillIn + left.length} detail calls · ${left.length} left the segment`);
		expect(await world.memberIds(201)).toEqual(truthMemberIds(world.sim, 201));
	});

	test('a lead that leaves while the pages are read is reported pending; the next sync marks it', async () => {
		// Where the first page request falls: after the CLI's own calls before the sync (its pre-flight).
		world.sim.resetLog();
		expect((await cli(['sync', '201', ...FAST])).code).toBe(0);
		const beforeFirstPage = world.sim.requests.findIndex((request) => request.endpoint === 'segmentLeads');
		expect(beforeFirstPage).toBeGreaterThanOrEqual(0);
		const leaver = Array.from(world.sim.truth.segmentMemberIds(201))[0];
		let left: number[] = [];
		// Page 0 (all of the segment) is read with the leaver; just before the empty page that ends the
		// walk, it leaves: the total moved, so the segment is walked again, without it.
		const cancel = world.sim.schedule({ atRequest: beforeFirstPage + 2 }, () => (left = world.sim.mutate.leave(201, [leaver])));
		const run = await cli(['sync', '201', ...FAST]).finally(cancel);
		expect(left).toEqual([leaver]);
		expect(run.code).toBe(0);
		expect(run.stdout).toMatch(/^Segment 201 "Hot leads": success in /m);
		expect(run.stdout).toContain('  1 leaver pending confirmation: left while the pages were read; the next run marks them if it misses them too.');
		expect(await world.memberIds(201)).toContain(leaver);

		const next = await cli(['sync', '201', '--json', ...FAST]);
		expect(JSON.parse(next.stdout)).toMatchObject({ exitCode: 0, results: [{ status: 'success', left: 1, leaversPending: 0 }] });
		expect(await world.memberIds(201)).toEqual(truthMemberIds(world.sim, 201));
	});

	test('status prints the health table', async () => {
		const run = await cli(['status']);
		expect(run.code).toBe(0);
		const lines = run.stdout.trim().split('\n');
		expect(lines[0]).toMatch(/^segment\s+name\s+health\s+last run\s+result\s+members/);
		const row201 = lines.find((line) => line.startsWith('201 '));
		expect(row201).toMatch(new RegExp(`^201\\s+Hot leads\\s+ok\\s+.*success\\s+${truthMemberIds(world.sim, 201).length}\\s+0\\s+100`));
		expect(lines.find((line) => line.startsWith('202 '))).toMatch(/never_run/);
		const json = await cli(['status', '201', '--json']);
		expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ segment_id: 201, health: 'ok', members: truthMemberIds(world.sim, 201).length })]);
	});

	test('report --html writes the dashboard page, --json prints its figures; without either it says what to give', async () => {
		const page = await cli(['report', '--html', 'health.html', '--days', '7']);
		expect(page.code).toBe(0);
		expect(page.stdout).toMatch(/^Wrote .*health\.html: 2 segment\(s\), 0 needing attention, last 7 days\./);
		expectNoSecrets(page);
		const html = readFileSync(join(workDir, 'health.html'), 'utf8');
		expect(html).toContain('<title>SprintHub sync health</title>');
		expect(html).toContain('id="segment-201" data-segment="201" data-health="ok"');
		expect(html).toContain('Hot leads (201)');
		for (const secret of [world.sim.token, world.stack.serviceRoleKey]) expect(html).not.toContain(secret);

		const json = await cli(['report', '201', '--json', '--rate', '100']);
		expect(json.code).toBe(0);
		const report = JSON.parse(json.stdout) as { budget: { requestsPerHour: number }; segments: Array<{ id: number; members: number; runs: unknown[] }> };
		expect(report.budget.requestsPerHour).toBe(6000);
		expect(report.segments.map((s) => [s.id, s.members])).toEqual([[201, truthMemberIds(world.sim, 201).length]]);
		expect(report.segments[0].runs.length).toBeGreaterThanOrEqual(2);

		expectOneLineError(await cli(['report']), 2, /Say what to produce: --html FILE .* or --json/);
		expectOneLineError(await cli(['report', '--json', '--days', '400']), 2, /--days needs an integer from 1 to 366, not "400"/);
		expectOneLineError(await cli(['report', '--html', join(workDir, 'missing', 'x.html')]), 2, /Cannot write .*x\.html: ENOENT/);
	});

	test('segments list joins the control rows with SprintHub and names the segments not registered', async () => {
		const run = await cli(['segments', 'list']);
		expect(run.code).toBe(0);
		expect(run.stdout).toContain("joined with SprintHub's segment list (instance acme)");
		expect(run.stdout).toMatch(/201\s+Hot leads\s+active\s+6 hours/);
		expect(run.stdout).toMatch(/In SprintHub but not registered: 203 "Never registered"/);
		const local = await cli(['segments', 'list'], { env: worldEnv({ SPRINTHUB_INSTANCE: undefined, SPRINTHUB_API_TOKEN: undefined }) });
		expect(local.code).toBe(0);
		expect(local.stdout).toContain('Registered segments (sync_segments_control) only');
		expect(local.stdout).not.toContain('not registered:');
	});

	test('pause, resume, reschedule and sync-due', async () => {
		const paused = await cli(['segments', 'pause', '202']);
		expect(paused).toMatchObject({ code: 0, stdout: expect.stringContaining('Paused segment 202 "Cold leads": paused') });
		const nothingDue = await cli(['sync-due']);
		expect(nothingDue).toMatchObject({ code: 0, stdout: 'No segment is due.\n' });

		const resumed = await cli(['segments', 'resume', '202']);
		expect(resumed).toMatchObject({ code: 0, stdout: expect.stringContaining('Resumed segment 202 "Cold leads": active') });
		const due = await cli(['sync-due', '--json', ...FAST]);
		expect(due.code).toBe(0);
		expect(JSON.parse(due.stdout).results).toEqual([expect.objectContaining({ segmentId: 202, status: 'success' })]);
		expect(await world.memberIds(202)).toEqual(truthMemberIds(world.sim, 202));

		// An unquoted cron expression arrives as several arguments.
		const rescheduled = await cli(['segments', 'reschedule', '202', '0', '6', '*', '*', '*', '--timezone', 'America/Sao_Paulo']);
		expect(rescheduled).toMatchObject({ code: 0, stdout: expect.stringContaining('schedule 0 6 * * * (America/Sao_Paulo)') });
		const [row] = await world.stack.query<{ schedule: string; schedule_timezone: string }>(
			'select schedule, schedule_timezone from sync_segments_control where segment_id = 202',
		);
		expect(row).toEqual({ schedule: '0 6 * * *', schedule_timezone: 'America/Sao_Paulo' });

		const [badSchedule, unknown] = await Promise.all([
			cli(['segments', 'reschedule', '202', 'whenever']),
			cli(['segments', 'pause', '777']),
		]);
		expect(badSchedule.code).toBe(2);
		expect(badSchedule.stderr.trim().split('\n')).toHaveLength(1);
		expect(badSchedule.stderr).toMatch(/whenever/);
		expect(unknown.code).toBe(2);
		expect(unknown.stderr).toMatch(/777/);
	});

	test('sync-due prunes past retention at most once a day; prune does it now', async () => {
		const oldRun = async () => {
			const [row] = await world.stack.query<{ run_id: string }>(
				`insert into sync_segments_logs (segment_id, execution_time, finished_at, status, message)
				 values (201, now() - interval '200 days', now() - interval '200 days', 'success', 'an old run') returning run_id::text`,
			);
			return row.run_id;
		};
		const exists = async (runId: string) =>
			(await world.stack.query(`select 1 from sync_segments_logs where run_id = $1`, [runId])).length === 1;
		await world.stack.query(`update sync_settings set last_pruned_at = null`);
		const first = await oldRun();
		expect((await cli(['sync-due'])).code).toBe(0);
		expect(await exists(first)).toBe(false);
		const second = await oldRun();
		expect((await cli(['sync-due'])).code).toBe(0);
		expect(await exists(second)).toBe(true);

		const pruned = await cli(['prune']);
		expect(pruned).toMatchObject({
			code: 0,
			stdout: 'Pruned 1 run logs (older than 90 days), 0 resolved quarantine rows (30 days), 0 left memberships (kept).\n',
		});
		expect(await exists(second)).toBe(false);
		const json = await cli(['prune', '--json']);
		expect(JSON.parse(json.stdout)).toMatchObject({ pruned: true, logs: 0, quarantine: 0, memberships: 0 });
		const [help, extra] = await Promise.all([cli(['prune', '--help']), cli(['prune', '201'])]);
		expect(help).toMatchObject({ code: 0, stdout: expect.stringContaining('sync_settings') });
		expectOneLineError(extra, 2, /takes no arguments/);
	});

	test('leads get prints the SprintHub record; an unknown lead exits 1', async () => {
		const id = world.sim.truth.segmentMemberIds(202)[3];
		const run = await cli(['leads', 'get', String(id)]);
		expect(run.code).toBe(0);
		expect(JSON.parse(run.stdout)).toEqual(JSON.parse(JSON.stringify(world.sim.truth.lead(id))));
		expectOneLineError(await cli(['leads', 'get', '987654321']), 1, /Lead 987654321 does not exist in SprintHub instance "acme"/);
	});

	test('throttling beyond the patience ends rate_limited with exit 3 and resumes later', async () => {
		await cli(['segments', 'add', '203']);
		world.sim.setRateLimit({ requests: 2, windowMs: 60_000 });
		try {
			const run = await cli(['sync', '203', '--patience', '1', '--json', ...FAST]);
			expect(run.code).toBe(3);
			const summary = JSON.parse(run.stdout);
			expect(summary).toMatchObject({ exitCode: 3, outcome: 'partial', results: [{ segmentId: 203, status: 'rate_limited' }] });
			expectNoSecrets(run);
		} finally {
			world.sim.setRateLimit(null);
		}
		const again = await cli(['sync', '203', '--json', ...FAST]);
		expect(again.code).toBe(0);
		expect(await world.memberIds(203)).toEqual(truthMemberIds(world.sim, 203));
	});

	test('one transient fault on the pre-flight call is asked again; one that keeps failing exits 1 and is a failed run in the log', async () => {
		const blip = world.sim.faults.add({ kind: 'truncate', endpoint: 'segments', times: 1 });
		const once = await cli(['sync', '202', '--json', ...FAST]);
		expect(blip.fired).toBe(1);
		expect(once.code).toBe(0);
		expect(JSON.parse(once.stdout)).toMatchObject({ exitCode: 0, results: [{ segmentId: 202, status: 'success' }] });

		const down = world.sim.faults.add({ kind: 'status', status: 502, endpoint: 'segments' });
		try {
			const failing = await cli(['sync', '202', '201', ...FAST]);
			expectOneLineError(failing, 1, /SprintHub at http:\/\/127\.0\.0\.1:\d+ kept failing \(.*HTTP 502.*\); nothing was synced\. Run again later; nothing is lost\./);
			expect(failing.stderr).not.toMatch(/check SPRINTHUB_BASE_URL/);
			expectNoSecrets(failing);
		} finally {
			down.remove();
		}
		const logs = await world.stack.query<{ segment_id: string; status: string; message: string }>(
			`select distinct on (segment_id) segment_id, status, message from sync_segments_logs where segment_id in (201, 202) order by segment_id, execution_time desc`,
		);
		expect(logs.map((log) => [Number(log.segment_id), log.status])).toEqual([
			[201, 'failed'],
			[202, 'failed'],
		]);
		expect(logs[0].message).toMatch(/^Pre-flight: SprintHub at .* kept failing/);
	});
});

describe('Ctrl-C', () => {
	test('SIGINT stops the run at a checkpoint, records it as cancelled, exits 130; the next run resumes', async () => {
		await cli(['segments', 'add', '204']);
		// Slow enough to interrupt: 50-lead pages, 20 detail calls a second.
		const { child, run, done } = startCli(['sync', '204', '--rate', '1200', '--page-size', '50', '--concurrency', '2']);
		await waitUntil('the second page', () => /segment 204: page 1:/.test(run.stderr));
		child.kill('SIGINT');
		const finished = await done;
		expect(finished.code).toBe(130);
		expect(finished.stderr).toContain('SIGINT received, stopping at the next checkpoint');
		expect(finished.stdout).toMatch(/Segment 204 "Slow one": cancelled in/);
		expectNoSecrets(finished);
		const [log] = await world.stack.query<{ status: string; message: string }>(
			'select status, message from sync_segments_logs where segment_id = 204 order by execution_time desc limit 1',
		);
		expect(log.status).toBe('cancelled');
		const [control] = await world.stack.query<{ checkpoint: { nextPage: number } | null; lease_run_id: string | null }>(
			'select checkpoint, lease_run_id from sync_segments_control where segment_id = 204',
		);
		expect(control.lease_run_id).toBeNull();
		expect(control.checkpoint?.nextPage).toBeGreaterThanOrEqual(1);

		const resumed = await cli(['sync', '204', '--json', '--concurrency', '8', ...FAST]);
		expect(resumed.code).toBe(0);
		expect(JSON.parse(resumed.stdout).results[0]).toMatchObject({ status: 'success', resumed: true, complete: true });
		expect(await world.memberIds(204)).toEqual(truthMemberIds(world.sim, 204));
	});
});
