/**
 * `npm run demo`: the whole product on this machine, no account anywhere.
 *
 * Starts a real PostgreSQL (embedded), applies the migrations, starts PostgREST behind a Supabase-like
 * gateway and the SprintHub simulator with a small account, then drives the real command line
 * (spawned as a child process, exactly what a user runs) through a first sync, the health table, a few
 * changes in "SprintHub" and an incremental sync. Everything is stopped and removed at the end.
 *
 *   npm run demo                 about a minute
 *   npm run demo -- --quick      a few seconds (CI)
 *   npm run demo -- --keep       leave it running and print how to look around, until Ctrl-C
 *   npm run demo -- --database-url postgresql://…   use that server instead of an embedded one
 *
 * DATABASE_URL is ignored unless --database-url is passed, so the demo never touches a server by accident.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { SegmentDefinition, Simulator } from '../test/support/simulator';
import type { Stack } from '../test/support/stack';

const ROOT = join(__dirname, '..');
const CLI_ENTRY = join(ROOT, 'cli', 'sprinthub-sync.ts');
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/** SprintHub allows about 100 requests a minute; the demo runs the same limit this many times faster. */
const TIME_SCALE = 300;
const REAL_REQUESTS_PER_MINUTE = 80;

interface DemoSize {
	segments: SegmentDefinition[];
	changed: number;
	left: number;
	joined: number;
}

const SIZES: Record<'full' | 'quick', DemoSize> = {
	full: {
		segments: [
			{ id: 101, name: 'Hot leads', size: 12_000 },
			{ id: 102, name: 'Newsletter', size: 9_000 },
			{ id: 103, name: 'Churn risk', size: 4_000 },
		],
		changed: 300,
		left: 40,
		joined: 25,
	},
	quick: {
		segments: [
			{ id: 101, name: 'Hot leads', size: 1_500 },
			{ id: 102, name: 'Newsletter', size: 1_000 },
			{ id: 103, name: 'Churn risk', size: 500 },
		],
		changed: 30,
		left: 12,
		joined: 8,
	},
};

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const say = (text = '') => process.stdout.write(`${text}\n`);
const step = (text: string) => say(`\n${bold(`▶ ${text}`)}`);
const n = (value: number) => value.toLocaleString('en-US');

let interrupted = false;
let currentChild: ChildProcess | null = null;

async function main(): Promise<number> {
	const { values } = parseArgs({
		args: process.argv.slice(2),
		options: {
			keep: { type: 'boolean' },
			quick: { type: 'boolean' },
			'database-url': { type: 'string' },
			help: { type: 'boolean', short: 'h' },
		},
		strict: true,
	});
	if (values.help) {
		say('Usage: npm run demo [-- --quick] [-- --keep] [-- --database-url postgresql://…]');
		return 0;
	}
	// The stack uses DATABASE_URL when set; the demo only does when asked to.
	if (values['database-url']) process.env.DATABASE_URL = values['database-url'];
	else delete process.env.DATABASE_URL;
	const size = values.quick || process.env.SPRINTHUB_DEMO_QUICK === '1' ? SIZES.quick : SIZES.full;
	const started = Date.now();

	// Loaded here so that --help answers without loading the stack.
	const { startStack } = await import('../test/support/stack');
	const { startSimulator } = await import('../test/support/simulator');

	let stack: Stack | undefined;
	let sim: Simulator | undefined;
	process.on('SIGINT', () => onInterrupt());
	process.on('SIGTERM', () => onInterrupt());
	try {
		say(bold('SprintHub Segment Sync: the demo'));
		say('Everything runs on this machine: PostgreSQL, PostgREST (the Supabase Data API), and a simulated SprintHub account.');

		step(values['database-url'] ? 'Starting the database stack on the server from --database-url' : 'Starting PostgreSQL (embedded), applying the migrations, starting PostgREST and the gateway');
		stack = await startStack();
		say(`  Supabase URL ${stack.supabaseUrl}, database ${stack.databaseName}`);
		if (interrupted) return 130;

		step('Starting the SprintHub simulator');
		const windowMs = Math.round(60_000 / TIME_SCALE);
		sim = await startSimulator({ seed: 7, instance: 'demo', segments: size.segments, rateLimit: { requests: 100, windowMs, mode: '401' } });
		const rate = REAL_REQUESTS_PER_MINUTE * TIME_SCALE;
		const visible = size.segments.map((segment) => sim!.truth.segmentMemberIds(segment.id).length);
		const totalVisible = visible.reduce((a, b) => a + b, 0);
		say(`  Account "demo" at ${sim.baseUrl} with ${size.segments.length} segments:`);
		size.segments.forEach((segment, index) => say(`    ${segment.id} "${segment.name}": ${n(visible[index])} leads`));
		say(`  Rate limit: 100 requests per ${windowMs} ms, SprintHub's 100 per minute running ${TIME_SCALE}× faster;`);
		say(`  the CLI budgets ${n(rate)} requests/min, i.e. ${REAL_REQUESTS_PER_MINUTE}/min scaled the same way.`);
		const distinct = new Set(size.segments.flatMap((segment) => sim!.truth.segmentMemberIds(segment.id))).size;
		const realMinutes = Math.round(distinct / REAL_REQUESTS_PER_MINUTE);
		say(`  (${n(totalVisible)} memberships, ${n(distinct)} distinct leads. At the real ${REAL_REQUESTS_PER_MINUTE}/min, the first sync takes about`);
		say(`  ${realMinutes >= 120 ? `${Math.round(realMinutes / 60)} hours` : `${realMinutes} minutes`}: one detail call per new lead. Later syncs cost list pages plus one call per changed lead.)`);

		const env = cliEnvironment(stack, sim);
		const ids = size.segments.map((segment) => String(segment.id));
		const cli = (args: string[]) => runCli(args, env);

		step('Registering the segments (the CLI checks them against SprintHub and takes their names)');
		if ((await cli(['segments', 'add', ...ids, '--schedule', '6 hours'])) !== 0 || interrupted) return fail('registering the segments');

		step('First sync: every lead is new, so each one gets a detail call');
		const runOptions = ['--rate', String(rate), '--concurrency', '8', '--parallel', '3'];
		const first = await cli(['sync', ...ids, ...runOptions]);
		if (interrupted) return 130;
		if (first !== 0) return fail(`the first sync (exit code ${first})`);
		const firstRuns = await latestRuns(stack, ids.length);

		step('The health table');
		await cli(['status']);
		if (interrupted) return 130;

		step('Meanwhile in SprintHub: leads change, some leave a segment, new ones join');
		const changed = sim.mutate.change({ segmentId: 101, count: size.changed });
		const left = sim.mutate.leave(102, size.left);
		const joined = sim.mutate.join(103, size.joined, { newLeads: true });
		say(`  ${n(changed.length)} leads of segment 101 changed, ${n(left.length)} left segment 102, ${n(joined.length)} new leads joined segment 103`);

		step('Second sync: incremental (cheap list pages, detail calls only for what changed, leavers marked)');
		const second = await cli(['sync', ...ids, ...runOptions]);
		if (interrupted) return 130;
		if (second !== 0) return fail(`the second sync (exit code ${second})`);
		const secondRuns = await latestRuns(stack, ids.length);

		step('What the runs cost, from sync_segments_logs');
		const sum = (runs: RunRow[], key: string) => runs.reduce((total, run) => total + Number(run.stats[key] ?? 0), 0);
		const firstDetails = sum(firstRuns, 'detail_calls');
		const secondDetails = sum(secondRuns, 'detail_calls');
		say(`  first run:  ${n(sum(firstRuns, 'leads_seen'))} leads, ${n(firstDetails)} detail calls, ${n(sum(firstRuns, 'requests'))} requests, ${firstRuns.map((r) => `${r.segment_id} ${r.duration_seconds ?? '?'} s`).join(', ')}`);
		say(`  second run: ${n(sum(secondRuns, 'leads_seen'))} leads, ${n(secondDetails)} detail calls, ${n(sum(secondRuns, 'requests'))} requests, ${n(sum(secondRuns, 'left'))} leavers marked`);
		// A changed lead that is in several segments is due a detail call in each segment's run, unless
		// a parallel run of another segment stored it first: so a range, not one number.
		const touched = new Set([...changed, ...joined]);
		const visibleTouched = size.segments.map((segment) => sim!.truth.segmentMemberIds(segment.id).filter((id) => touched.has(id)));
		const perSegment = visibleTouched.reduce((total, ids) => total + ids.length, 0);
		const atLeast = new Set(visibleTouched.flat()).size;
		say(`  SprintHub changed ${n(changed.length)} leads and added ${n(joined.length)}; counted once per segment they are in, that is ${n(perSegment)} detail calls at most`);
		say(`  and ${n(atLeast)} at least. The second run made ${n(secondDetails)}; the first made ${n(firstDetails)}.`);

		step('Checking the database against the simulator');
		let allMatch = true;
		for (const segment of size.segments) {
			const truth = sim.truth.segmentMemberIds(segment.id).length;
			const [row] = await stack.query<{ members: string; gone: string }>(
				'select count(*) filter (where left_at is null) as members, count(*) filter (where left_at is not null) as gone from sync_segment_leads where segment_id = $1',
				[segment.id],
			);
			const match = Number(row.members) === truth;
			allMatch &&= match;
			say(`  segment ${segment.id}: ${n(Number(row.members))} current members in the database, ${n(truth)} in SprintHub${match ? ' ✓' : ' ✗'}; ${n(Number(row.gone))} marked as left`);
		}
		if (!allMatch) return fail('the comparison with the simulator');

		if (values.keep) {
			await keepRunning(stack, sim, env);
			return 0;
		}
		say(`\nDone in ${Math.round((Date.now() - started) / 1000)} s.`);
		return 0;
	} finally {
		const postgrestPid = stack?.postgrestPid;
		await stack?.stop().catch(() => undefined);
		await sim?.close().catch(() => undefined);
		if (stack) say(`Stopped PostgREST (pid ${postgrestPid}), the gateway, the simulator and ${values['database-url'] ? `the demo database on your server` : 'PostgreSQL'}; its files are removed.`);
	}
}

function fail(what: string): number {
	say(`\nThe demo stopped: ${what} did not succeed (see above).`);
	return 1;
}

function onInterrupt(): void {
	if (interrupted) return;
	interrupted = true;
	say('\nStopping…');
	// The CLI runs in its own process group (so one Ctrl-C reaches it once): forward it.
	if (currentChild && currentChild.exitCode === null) currentChild.kill('SIGINT');
}

/** The CLI's settings, and nothing of the user's own (no real account or project can be reached). */
function cliEnvironment(stack: Stack, sim: Simulator): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [key, value] of Object.entries(process.env)) {
		if (!/^(VITE_)?(SPRINTHUB|SUPABASE)_/.test(key) && key !== 'DATABASE_URL') env[key] = value;
	}
	return {
		...env,
		SPRINTHUB_BASE_URL: sim.baseUrl,
		SPRINTHUB_INSTANCE: sim.instance,
		SPRINTHUB_API_TOKEN: sim.token,
		SUPABASE_URL: stack.supabaseUrl,
		SUPABASE_SERVICE_ROLE_KEY: stack.serviceRoleKey,
	};
}

/** Runs the real command line as a child process, its output straight on this terminal. */
function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
	say(`$ sprinthub-sync ${args.map((arg) => (/\s/.test(arg) ? `'${arg}'` : arg)).join(' ')}`);
	return new Promise((resolve) => {
		const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI_ENTRY, ...args], {
			cwd: ROOT,
			env,
			stdio: ['ignore', 'inherit', 'inherit'],
			detached: true,
		});
		currentChild = child;
		const kill = () => child.kill('SIGKILL');
		process.once('exit', kill);
		child.once('exit', (code, signal) => {
			process.removeListener('exit', kill);
			currentChild = null;
			resolve(code ?? (signal ? 128 + 2 : 1));
		});
	});
}

interface RunRow {
	segment_id: string;
	status: string;
	duration_seconds: string | null;
	stats: Record<string, unknown>;
}

async function latestRuns(stack: Stack, count: number): Promise<RunRow[]> {
	const rows = await stack.query<RunRow & Record<string, unknown>>(
		`select segment_id, status, round(duration_seconds::numeric, 1)::text as duration_seconds, stats
		 from sync_segments_logs where status <> 'skipped' order by execution_time desc limit $1`,
		[count],
	);
	return rows.sort((a, b) => Number(a.segment_id) - Number(b.segment_id));
}

async function keepRunning(stack: Stack, sim: Simulator, env: NodeJS.ProcessEnv): Promise<void> {
	const db = new URL(stack.databaseUrl);
	step('Left running (--keep)');
	say(`  Supabase URL:      ${stack.supabaseUrl}`);
	say(`  Service role key:  ${stack.serviceRoleKey}`);
	say(`  psql:              psql '${db.toString()}'`);
	say(`  SprintHub (simulated): base URL ${sim.baseUrl}, instance ${sim.instance}, token ${sim.token}`);
	say('\n  Look around:');
	say('    select * from sync_segments_health;');
	say('    select segment_id, status, message, stats from sync_segments_logs order by execution_time desc limit 10;');
	say('    select segment_id, count(*) filter (where left_at is null) as members, count(*) filter (where left_at is not null) as left from sync_segment_leads group by 1;');
	say('    select id, fullname, email, city, raw->>\'updatedDate\' as updated from leads order by written_at desc limit 10;');
	say('\n  Or the CLI, with these settings:');
	say(`    SPRINTHUB_BASE_URL=${env.SPRINTHUB_BASE_URL} SPRINTHUB_INSTANCE=${env.SPRINTHUB_INSTANCE} SPRINTHUB_API_TOKEN=${env.SPRINTHUB_API_TOKEN} \\`);
	say(`    SUPABASE_URL=${env.SUPABASE_URL} SUPABASE_SERVICE_ROLE_KEY=${env.SUPABASE_SERVICE_ROLE_KEY} npm run cli -- status`);

	// The dashboard, drawn by the real command line from what the runs above recorded.
	const dashboardDir = mkdtempSync(join(tmpdir(), 'sprinthub-demo-dashboard-'));
	const dashboard = join(dashboardDir, 'sync-health.html');
	step('The sync health dashboard');
	const drawn = await runCli(['report', '--html', dashboard], env);
	if (drawn === 0) {
		say(`  Open it in a browser:  file://${dashboard}`);
		say('  (one file, no script, loads nothing from the network; drawn again with the same command after more syncs,');
		say('  e.g. "npm run cli -- sync 101" with the settings above, then "npm run cli -- report --html sync-health.html")');
	}
	say('  In n8n the same page is served by the bundled workflow workflows/sprinthub-sync-dashboard.json (Sync Health → Report).');
	say('\n  Press Ctrl-C to stop everything and remove its files.');
	await new Promise<void>((resolve) => {
		const check = setInterval(() => {
			if (interrupted) {
				clearInterval(check);
				resolve();
			}
		}, 200);
	});
	rmSync(dashboardDir, { recursive: true, force: true });
}

main().then(
	(code) => {
		process.exitCode = interrupted && code === 0 ? 0 : code;
		setTimeout(() => process.exit(process.exitCode ?? 0), 2_000).unref();
	},
	(error: unknown) => {
		process.stderr.write(`The demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
		process.exitCode = 1;
		setTimeout(() => process.exit(1), 2_000).unref();
	},
);
