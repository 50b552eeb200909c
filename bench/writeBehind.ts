/**
 * Benchmark 8: writes behind fetching (issue 15). While page k is written, page k+1's list and detail
 * calls go ahead (writeAhead 1 or 2; 0 is the serial way of before).
 *
 * A. Database-bound: a first load of a 20,000-lead segment from list pages alone (the account's lists
 *    carry full records, enrichment auto), with the budget high enough not to matter and 100 ms per
 *    SprintHub call. API time = a dry run of the same pages (reads only); DB time = the sum of the
 *    database calls of the serial run (the gateway times each one). Bound = max(API, DB) + one page.
 * B. Budget-bound: a first load of 600 leads with a detail call each (enrichment changed) at 900 calls
 *    a minute. Bound = calls ÷ budget.
 */
import { type SegmentSyncResult, type SyncEngine } from '../engine';
import { rateBudgets } from '../engine/sprinthub';
import { startSyncWorld, truthMemberIds, type SyncWorld } from '../test/support/world';
import { printTable, round, saveResults, seconds, type Row } from './support';

const BIG = 801;
const BIG_SIZE = 20_000;
const SMALL = 802;
const SMALL_SIZE = 600;
const LATENCY_MS = 100;
const LOW_BUDGET = 900;

async function timed(world: SyncWorld, run: () => Promise<SegmentSyncResult[]>) {
	world.sim.resetLog();
	world.stack.gateway.requests.length = 0;
	const started = performance.now();
	const [result] = await run();
	const ms = performance.now() - started;
	if (result.status !== 'success') throw new Error(`sync ended ${result.status}: ${result.message}`);
	const dbMs = world.stack.gateway.requests.filter((entry) => /sync_(apply_page|markers|mark_deleted)/.test(entry.path)).reduce((sum, entry) => sum + entry.durationMs, 0);
	return { result, ms, dbMs, calls: world.sim.counters.total };
}

/** Back to an empty database for the segment, so each run is a first load. */
async function forgetLeads(world: SyncWorld): Promise<void> {
	await world.stack.query('delete from sync_segment_leads');
	await world.stack.query('delete from leads');
	await world.stack.query('update sync_segments_control set checkpoint = null, next_execution = now()');
}

async function checkMembers(world: SyncWorld, segmentId: number): Promise<void> {
	const stored = await world.memberIds(segmentId);
	const truth = truthMemberIds(world.sim, segmentId);
	if (stored.length !== truth.length || stored.some((id, index) => id !== truth[index])) throw new Error(`segment ${segmentId}: ${stored.length} stored, ${truth.length} in the simulator`);
}

export async function benchWriteBehind(): Promise<{ databaseBound: Row[]; budgetBound: Row[] }> {
	const world = await startSyncWorld({
		seed: 8,
		segments: [
			{ id: BIG, name: 'Bench list pages', size: BIG_SIZE },
			{ id: SMALL, name: 'Bench details', size: SMALL_SIZE },
		],
		rateLimit: null,
		logLimit: 1000,
		listFullRecords: { allFields: 'honoured' },
	});
	const engine = (requestsPerMinute: number): SyncEngine => {
		rateBudgets.clear();
		return world.engine({ requestsPerMinute });
	};
	try {
		await world.addSegments(BIG, SMALL);
		// The account's lists are learned complete once (a first sync stores the custom fields, the next checks).
		const fast = engine(1_000_000);
		await fast.syncSegments([BIG], { trigger: 'cli', detailConcurrency: 8 });
		await fast.syncSegments([BIG], { trigger: 'cli', detailConcurrency: 8 });
		world.sim.setLatency(LATENCY_MS);

		// A. Database-bound.
		await forgetLeads(world);
		const api = await timed(world, () => fast.syncSegments([BIG], { trigger: 'cli', dryRun: true }));
		const databaseBound: Row[] = [];
		let dbMs = 0;
		for (const writeAhead of [0, 1, 2]) {
			await forgetLeads(world);
			const run = await timed(world, () => fast.syncSegments([BIG], { trigger: 'cli', writeAhead }));
			await checkMembers(world, BIG);
			if (run.result.listRecords?.usedThisRun !== 'list') throw new Error('the run did not use list records');
			if (writeAhead === 0) dbMs = run.dbMs;
			const pages = run.result.stats.pages;
			const onePageMs = Math.max(api.ms, dbMs) / pages;
			const boundMs = Math.max(api.ms, dbMs) + onePageMs;
			databaseBound.push({
				writeAhead,
				leads: run.result.stats.inserted,
				pages,
				calls: run.calls,
				'API s (dry run)': seconds(api.ms),
				'DB s (serial run)': seconds(dbMs),
				'API + DB s': seconds(api.ms + dbMs),
				'bound s (max + 1 page)': seconds(boundMs),
				'wall s': seconds(run.ms),
				'wall / bound': round(run.ms / boundMs, 3),
			});
		}
		printTable(`Writes behind fetching, database-bound: ${BIG_SIZE}-lead first load from list pages, ${LATENCY_MS} ms per call, budget not limiting`, databaseBound);

		// B. Budget-bound.
		world.sim.setLatency(80);
		const budgetBound: Row[] = [];
		for (const writeAhead of [0, 1]) {
			await forgetLeads(world);
			const low = engine(LOW_BUDGET);
			const run = await timed(world, () => low.syncSegments([SMALL], { trigger: 'cli', enrichment: 'changed', writeAhead }));
			await checkMembers(world, SMALL);
			const boundMs = (run.calls / LOW_BUDGET) * 60_000;
			budgetBound.push({
				writeAhead,
				leads: run.result.stats.inserted,
				calls: run.calls,
				'budget/min': LOW_BUDGET,
				'bound s (calls ÷ budget)': seconds(boundMs),
				'wall s': seconds(run.ms),
				'wall / bound': round(run.ms / boundMs, 3),
			});
		}
		printTable(`Writes behind fetching, budget-bound: ${SMALL_SIZE}-lead first load, a detail call per lead, ${LOW_BUDGET} calls/min`, budgetBound);
		saveResults('writeBehind', { databaseBound, budgetBound });
		return { databaseBound, budgetBound };
	} finally {
		await world.stop();
	}
}

if (require.main === module) {
	benchWriteBehind().catch((error: unknown) => {
		process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
		process.exit(1);
	});
}
