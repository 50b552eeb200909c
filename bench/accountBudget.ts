/**
 * Benchmark 6 (issue 11): one SprintHub budget for every process of an account. 1, 2, 4 and 8 real
 * command-line processes sync different segments of one simulated account whose server allows
 * L = 600 calls a minute (200 in any 20 s sliding window, 429 + Retry-After beyond, 80 ms per call).
 * The account's rate is set to 0.9 L = 540 a minute in the database (`sprinthub-sync account rate 540`);
 * every process asks for 60,000 a minute with --rate, which can only lower the account's.
 * Each row syncs about 720 leads in all (a first sync: one detail call per lead), split between its
 * processes. Bound = calls ÷ budget.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCliBundle, rateFigures, startCli, worldEnv } from '../test/support/cliProcesses';
import { startSyncWorld, truthMemberIds } from '../test/support/world';
import { printTable, round, saveResults, type Row } from './support';

const SERVER = { requests: 200, windowMs: 20_000, mode: '429' as const };
const LIMIT_PER_MINUTE = (SERVER.requests * 60_000) / SERVER.windowMs;
const BUDGET = 0.9 * LIMIT_PER_MINUTE;
const LEADS_PER_ROW = 720;
const PROCESSES = [1, 2, 4, 8];
const LATENCY_MS = 80;

export async function benchAccountBudget(): Promise<Row[]> {
	const plan = PROCESSES.map((count, row) => ({ count, segments: Array.from({ length: count }, (_, i) => 1000 + row * 10 + i) }));
	const world = await startSyncWorld({
		seed: 31,
		segments: plan.flatMap(({ count, segments }) => segments.map((id) => ({ id, name: `Bench ${id}`, size: Math.round(LEADS_PER_ROW / count) }))),
		rateLimit: null,
	});
	const workDir = mkdtempSync(join(tmpdir(), 'sprinthub-bench-account-'));
	const rows: Row[] = [];
	try {
		await world.addSegments(...plan.flatMap((row) => row.segments));
		const bundle = await buildCliBundle(workDir);
		const env = worldEnv(world);
		const set = await startCli(bundle, ['account', 'rate', String(BUDGET)], env, workDir).done;
		if (set.code !== 0) throw new Error(`account rate failed: ${set.stderr}`);
		world.sim.setLatency(LATENCY_MS);
		for (const { count, segments } of plan) {
			world.sim.setRateLimit(SERVER);
			world.sim.resetLog();
			const [before] = await world.stack.query<{ granted_total: string; released_total: string }>('select granted_total, released_total from sync_account_budgets');
			world.stack.gateway.requests.length = 0;
			const started = performance.now();
			const runs = await Promise.all(segments.map((id) => startCli(bundle, ['sync', String(id), '--rate', '60000', '--progress', 'none'], env, workDir).done));
			const wallMs = performance.now() - started;
			const failed = runs.filter((run) => run.code !== 0);
			if (failed.length) throw new Error(`${failed.length} of ${count} processes failed: ${failed[0].stderr.slice(0, 500)}`);
			const [after] = await world.stack.query<{ granted_total: string; released_total: string }>('select granted_total, released_total from sync_account_budgets');
			const takes = world.stack.gateway.requests.filter((entry) => entry.path.endsWith('/rpc/sync_budget_reserve')).length;
			const released = Number(after.released_total) - Number(before.released_total);
			let equal = true;
			for (const id of segments) {
				const stored = await world.memberIds(id);
				const truth = truthMemberIds(world.sim, id);
				equal &&= stored.length === truth.length && stored.every((lead, index) => lead === truth[index]);
			}
			const figures = rateFigures(world.sim.requests, SERVER.windowMs);
			const boundS = (figures.calls / BUDGET) * 60;
			rows.push({
				processes: count,
				'server limit/min': LIMIT_PER_MINUTE,
				'account budget/min': BUDGET,
				calls: figures.calls,
				throttled: figures.throttled,
				'combined/min': round(figures.perMinute, 1),
				[`max in ${SERVER.windowMs / 1000} s (limit ${SERVER.requests})`]: figures.maxInWindow,
				'bound s': round(boundS, 2),
				'calls span s': round(figures.spanSeconds, 2),
				'span / bound': round(figures.spanSeconds / boundS, 3),
				'wall s (spawn→exit)': round(wallMs / 1000, 2),
				'wall / bound': round(wallMs / 1000 / boundS, 3),
				'takes per call': round(takes / figures.calls, 3),
				'slots given back': released,
				'slots unused': Number(after.granted_total) - Number(before.granted_total) - released - figures.calls,
				'DB = simulator': equal ? 'yes' : 'NO',
			});
		}
		printTable(
			`Processes of one account (server ${LIMIT_PER_MINUTE}/min as ${SERVER.requests} per ${SERVER.windowMs / 1000} s sliding window, ${LATENCY_MS} ms per call; account budget ${BUDGET}/min)`,
			rows,
		);
		saveResults('accountBudget', rows);
		return rows;
	} finally {
		await world.stop();
		rmSync(workDir, { recursive: true, force: true });
	}
}
