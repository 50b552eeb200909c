/**
 * npm run soak [-- --seed N] [--rounds N] [--short] [--json FILE] [--queue-workers [--tarball FILE]]:
 * the chaos soak of issue 18.
 *
 * Many rounds of real CLI processes syncing the segments of one simulated account into a real
 * stack (PostgreSQL + PostgREST + gateway), under a seeded schedule of SIGKILLs, throttling bursts,
 * API faults, database faults, membership churn and duplicate processes; then one quiet round per
 * segment and the invariants (test/soak/invariants.ts). Prints a report ending in
 * "N passed, N failed" (one per invariant) and exits 1 when any failed, naming the seed to repeat.
 * --short: the CI version (12 rounds, seed 1 unless given). DATABASE_URL as for the tests.
 * --queue-workers: the same schedule, but the syncs run in n8n 1.x queue mode (main + two workers)
 * and the kills hit the workers (test/soak/queueWorkers.ts); --tarball skips build + pack.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCliBundle, startCli, worldEnv, type CliProcess } from '../support/cliProcesses';
import type { RateLimit, SegmentDefinition } from '../support/simulator';
import { Random } from '../support/simulator/random';
import { startSyncWorld } from '../support/world';
import { emptyChurn, IdealCalls } from './ideal';
import * as invariants from './invariants';
import { planRound, type RoundPlan } from './plan';
import { printReport, tally, type SoakFigures } from './report';
import { runRound, type RoundOutcome, type SoakContext } from './round';
import { executionsByStatus, QUEUE_LEASE_SECONDS, runQueueRound, startQueueSoak, type QueueSoakContext } from './queueWorkers';

/** The server allows 3,000 calls a minute (100 per 2 s window, 429 beyond); the account's budget is 80 % of it. */
const SERVER_LIMIT: RateLimit = { requests: 100, windowMs: 2000, mode: '429' };
const ACCOUNT_RATE_PER_MINUTE = 2400;
const PAGE_SIZE = 100;
/**
 * Real calls may exceed the ideal by this factor over the whole soak: kills lose the detail calls of
 * the page in flight, faults and throttling are retried, walks repeat when members move mid-walk.
 */
const CALLS_FACTOR = 3;
const ROUND_TIMEOUT_MS = 180_000;
/** Queue mode: a killed worker's segment waits for its lease (45 s) and the worker's restart. */
const QUEUE_ROUND_TIMEOUT_MS = 300_000;

interface Options {
	seed: number;
	rounds: number;
	short: boolean;
	json?: string;
	queueWorkers: boolean;
	tarball?: string;
}

function parseOptions(argv: string[]): Options {
	const options: Partial<Options> = { short: false, queueWorkers: false };
	for (let i = 0; i < argv.length; i++) {
		const flag = argv[i];
		const value = (): number => {
			const text = argv[++i];
			if (!/^\d+$/.test(text ?? '')) throw new Error(`${flag} needs a whole number (e.g. ${flag} 7), got ${text ?? 'nothing'}`);
			return Number(text);
		};
		if (flag === '--seed') options.seed = value();
		else if (flag === '--rounds') options.rounds = value();
		else if (flag === '--short') options.short = true;
		else if (flag === '--json') options.json = argv[++i];
		else if (flag === '--queue-workers') options.queueWorkers = true;
		else if (flag === '--tarball') options.tarball = argv[++i];
		else throw new Error(`unknown option ${flag}; use --seed N, --rounds N, --short, --json FILE, --queue-workers, --tarball FILE`);
	}
	const seed = options.seed ?? (options.short ? 1 : Date.now() % 1_000_000);
	const rounds = options.rounds ?? (options.short ? (options.queueWorkers ? 6 : 12) : options.queueWorkers ? 40 : 200);
	return { seed, rounds, short: options.short!, json: options.json, queueWorkers: options.queueWorkers!, tarball: options.tarball };
}

async function main(): Promise<number> {
	const options = parseOptions(process.argv.slice(2));
	const repeat = `npm run soak -- ${options.queueWorkers ? '--queue-workers ' : ''}--seed ${options.seed} --rounds ${options.rounds}`;
	process.stdout.write(`soak${options.queueWorkers ? ' (n8n queue-mode workers)' : ''}: seed ${options.seed}, ${options.rounds} rounds (repeat: ${repeat})\n`);
	const started = Date.now();
	const random = new Random(options.seed);
	const segmentIds = [7101, 7102, 7103, 7104];
	const segments: SegmentDefinition[] = segmentIds.map((id) => ({ id, name: `Soak ${id}`, size: random.int(options.short ? 60 : 120, options.short ? 140 : 260) }));
	const world = await startSyncWorld({ seed: options.seed, segments, rateLimit: SERVER_LIMIT, latencyMs: 5, logLimit: Number.POSITIVE_INFINITY });
	const workDir = mkdtempSync(join(tmpdir(), 'sprinthub-soak-'));
	const live = new Set<CliProcess>();
	const killAll = (): void => live.forEach((cli) => cli.child.kill('SIGKILL'));
	// The queue variant's n8n processes run in their own process groups: stopped by their dispose.
	let disposeQueue: (() => Promise<void>) | undefined;
	process.once('exit', killAll);
	// Ctrl-C or a CI timeout: stop the processes and remove the stack (its database) before leaving.
	let stopping = false;
	const interrupted = (signal: NodeJS.Signals): void => {
		if (stopping) return;
		stopping = true;
		process.stderr.write(`soak: ${signal}, stopping (seed ${options.seed})\n`);
		killAll();
		void Promise.resolve(disposeQueue?.())
			.then(() => world.stop())
			.finally(() => {
			rmSync(workDir, { recursive: true, force: true });
			process.exit(130);
		});
	};
	process.once('SIGINT', interrupted);
	process.once('SIGTERM', interrupted);
	try {
		const churn = emptyChurn();
		let runOne: (plan: RoundPlan) => Promise<RoundOutcome>;
		let ideal: IdealCalls;
		let queue: QueueSoakContext | null = null;
		if (options.queueWorkers) {
			const soak = await startQueueSoak(world, segmentIds, { tarball: options.tarball, workers: 2, ratePerMinute: ACCOUNT_RATE_PER_MINUTE, log: (line) => process.stdout.write(`${line}\n`) });
			disposeQueue = soak.dispose;
			world.sim.resetLog();
			// n8n's Sync Due has no page size: the engine's (1,000 leads) sets the pages an ideal sync reads.
			ideal = new IdealCalls(world.sim, 1000);
			const context: QueueSoakContext = {
				world,
				cluster: soak.cluster,
				serverLimit: SERVER_LIMIT,
				ideal,
				churn,
				roundTimeoutMs: QUEUE_ROUND_TIMEOUT_MS,
				restarts: new Set(),
				figures: { workerRestarts: 0, killsWithoutRun: 0, killsOfHolder: { own: 0, other: 0 }, slowestRestartMs: 0 },
			};
			queue = context;
			runOne = (plan) => runQueueRound(context, plan);
		} else {
			await world.addSegments(...segmentIds);
			const bundle = await buildCliBundle(workDir);
			const env = worldEnv(world);
			const rate = await startCli(bundle, ['account', 'rate', String(ACCOUNT_RATE_PER_MINUTE)], env, workDir).done;
			if (rate.code !== 0) throw new Error(`account rate failed: ${rate.stderr}`);
			world.sim.resetLog();
			ideal = new IdealCalls(world.sim, PAGE_SIZE);
			const context: SoakContext = {
				world,
				bundle,
				env,
				workDir,
				serverLimit: SERVER_LIMIT,
				cliFlags: ['--progress', 'none', '--page-size', String(PAGE_SIZE), '--patience', '30', '--db-patience', '30'],
				ideal,
				churn,
				roundTimeoutMs: ROUND_TIMEOUT_MS,
				live,
			};
			runOne = (plan) => runRound(context, plan);
		}
		const roundTimeoutMs = queue ? QUEUE_ROUND_TIMEOUT_MS : ROUND_TIMEOUT_MS;

		const figures = {
			processes: 0,
			duplicateProcesses: 0,
			kills: { total: 0, atRequest: 0, afterMs: 0 },
			exits: {} as Record<string, number>,
			apiFaults: {} as Record<string, number>,
			throttleBursts: {} as Record<string, number>,
			throttledCalls: 0,
			databaseFaults: {} as Record<string, number>,
			databaseFaulted: 0,
		};
		let hungRounds: number[] = [];
		for (let round = 1; round <= options.rounds; round++) {
			const plan = planRound(random, round, segmentIds);
			const outcome = await runOne(plan);
			figures.processes += plan.processes.length;
			figures.duplicateProcesses += plan.processes.length - new Set(plan.processes).size;
			figures.kills.total += outcome.kills;
			figures.kills.atRequest += outcome.killPoints.atRequest;
			figures.kills.afterMs += outcome.killPoints.afterMs;
			outcome.exits.forEach((exit) => tally(figures.exits, exit));
			Object.entries(outcome.apiFaultsFired).forEach(([kind, fired]) => tally(figures.apiFaults, kind.replace(/ on .*/, ''), fired));
			if (plan.throttle) tally(figures.throttleBursts, plan.throttle.mode === '401' ? '401 text' : '429 Retry-After');
			figures.throttledCalls += outcome.throttledCalls;
			outcome.databaseFaults.forEach((kind) => tally(figures.databaseFaults, kind));
			figures.databaseFaulted += outcome.databaseFaulted;
			if (outcome.hung) hungRounds.push(round);
			process.stdout.write(
				`round ${round}: ${plan.processes.join(' ')} → ${outcome.exits.join(', ')}; kills ${outcome.kills}` +
					`${outcome.stderrSamples.length ? `; ${outcome.stderrSamples.join(' | ')}` : ''}\n`,
			);
		}

		// The quiet round: no faults, no churn, every segment once.
		const quiet = await runOne({ round: 0, processes: segmentIds, kills: [], churnBefore: [], churnDuring: [], apiFaults: [], throttle: null, databaseFaults: [] });
		if (quiet.hung) hungRounds = [...hungRounds, 0];
		process.stdout.write(`quiet round: ${quiet.exits.join(', ')}\n`);

		const [{ configuration }] = await world.stack.query<{ configuration: number }>("select count(*)::int as configuration from sync_segments_logs where error_class = 'configuration'");
		const results: invariants.InvariantResult[] = [
			queue
				? {
						name: 'every quiet-round run succeeded',
						ok: quiet.exits.length >= segmentIds.length && quiet.exits.every((status) => status === 'success'),
						detail: quiet.exits.join(', ') + (quiet.stderrSamples.length ? `: ${quiet.stderrSamples.join(' | ')}` : ''),
					}
				: { name: 'every quiet-round process succeeded (exit 0)', ok: quiet.exits.every((exit) => exit === 'exit 0'), detail: quiet.exits.join(', ') + (quiet.stderrSamples.length ? `: ${quiet.stderrSamples.join(' | ')}` : '') },
			// The settings are right all along: a configuration failure (the CLI's exit 2) would send a user to fix what is not broken.
			queue
				? { name: 'no run failed for the configuration (error class configuration)', ok: configuration === 0, detail: `${configuration} did` }
				: { name: 'no process blamed the configuration (exit 2)', ok: !figures.exits['exit 2'], detail: `${figures.exits['exit 2'] ?? 0} did` },
			{
				name: queue ? `no round outlived ${roundTimeoutMs / 1000} s (its segments synced and released)` : `no process outlived its round (${roundTimeoutMs / 1000} s)`,
				ok: hungRounds.length === 0,
				detail: hungRounds.length ? `rounds ${hungRounds.join(', ')}` : 'none did',
			},
			await invariants.membersEqualTruth(world, segmentIds),
			await invariants.recordsEqualTruth(world, segmentIds),
			await invariants.typedColumnsAreCasts(world),
			await invariants.deletedLeadsMarked(world, churn.deleted),
			await invariants.noDuplicateRows(world),
			...(await invariants.runsFinishedLeasesFree(world)),
		];
		const calls = world.sim.requests.length;
		const idealCalls = ideal.total;
		results.push({ name: `SprintHub calls within × ${CALLS_FACTOR} of the ideal for the churn`, ok: calls <= CALLS_FACTOR * idealCalls, detail: `${calls} calls, ideal ${idealCalls}` });
		const budget = invariants.budgetFigures(world.sim.requests, ACCOUNT_RATE_PER_MINUTE);
		const [{ capacity }] = await world.stack.query<{ capacity: string }>('select sync_internal.budget_capacity($1) as capacity', [ACCOUNT_RATE_PER_MINUTE]);
		results.push(invariants.budgetKept(world.sim.requests, ACCOUNT_RATE_PER_MINUTE, Number(capacity)));

		const runs = await world.stack.query<{ status: string; n: number }>('select status, count(*)::int as n from sync_segments_logs group by status');
		const report: SoakFigures = {
			seed: options.seed,
			rounds: options.rounds,
			segments: segmentIds.length,
			...figures,
			churn: { ...churn, deleted: churn.deleted.length },
			runsByStatus: Object.fromEntries(runs.map((row) => [row.status, row.n])),
			calls: { total: calls, ideal: idealCalls, factor: calls / Math.max(1, idealCalls), allowed: CALLS_FACTOR },
			budget: { ...budget, ratePerMinute: ACCOUNT_RATE_PER_MINUTE },
			wallSeconds: (Date.now() - started) / 1000,
			invariants: results,
			queue: queue
				? { ...queue.figures, workers: queue.cluster.workers.length, leaseSeconds: QUEUE_LEASE_SECONDS, executions: await executionsByStatus(queue.cluster) }
				: undefined,
		};
		printReport(report, repeat);
		if (options.json) writeFileSync(options.json, `${JSON.stringify(report, null, '\t')}\n`);
		return results.every((result) => result.ok) ? 0 : 1;
	} finally {
		killAll();
		await disposeQueue?.();
		await world.stop();
		rmSync(workDir, { recursive: true, force: true });
	}
}

main().then(
	(code) => process.exit(code),
	(error: unknown) => {
		process.stderr.write(`soak: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
		process.exit(1);
	},
);
