/**
 * Benchmarks 2 and 3: what a sync spends against what it must spend, and how long it takes against
 * what its rate budget allows.
 *
 * 2. API efficiency: a segment of N = 20,000 leads is loaded once, then C = 1% of its leads change in
 *    the simulator and the segment is synced again. Ideal = ceil(N/1000) + 1 list calls (pages of 1,000
 *    ids and change markers, plus the empty page that confirms the end) + C detail calls.
 * 3. Wall time vs the budget bound: the simulator answers every call after 80 ms and enforces 100 calls
 *    per 10 s sliding window (429 with Retry-After): 600 per minute; the account's budget is set to it in
 *    the database (sync_set_account_rate, as `sprinthub-sync account rate` does) and the run asks for
 *    more, so the shared budget sets the pace (a real account allows ~100 per minute: the scale keeps
 *    the run in tens of seconds). Bound = calls ÷ budget.
 *    Runs: another 1% change on the 20,000-lead segment (list + detail calls) with the budget equal to
 *    the server's limit and at 90% of it (what production clients do), and a full refresh of a
 *    300-lead segment (nearly all detail calls).
 */
import { budgetAccount, type SyncEngine, type SegmentSyncResult } from '../engine';
import { rateBudgets } from '../engine/sprinthub';
import { startSyncWorld, truthMemberIds, type SyncWorld } from '../test/support/world';
import { printTable, round, saveResults, seconds, type Row } from './support';

const SEGMENT = 101;
const N = 20_000;
const CHANGED_SHARE = 0.01;
const FIRST_LOAD_SEGMENT = 102;
const FIRST_LOAD_SIZE = 300;
const LATENCY_MS = 80;
const LIMIT_PER_MINUTE = 600;

interface Spent {
	list: number;
	detail: number;
	total: number;
	throttled: number;
	dbRequests: number;
}

async function measured(world: SyncWorld, run: () => Promise<SegmentSyncResult[]>): Promise<{ result: SegmentSyncResult; spent: Spent; ms: number }> {
	world.sim.resetLog();
	world.stack.gateway.requests.length = 0;
	const started = performance.now();
	const [result] = await run();
	const ms = performance.now() - started;
	const counters = world.sim.counters;
	if (result.status !== 'success') throw new Error(`sync ended ${result.status}: ${result.message}`);
	return {
		result,
		ms,
		spent: {
			list: counters.byEndpoint.segmentLeads,
			detail: counters.byEndpoint.leadDetail,
			total: counters.total,
			throttled: counters.throttled,
			dbRequests: world.stack.gateway.requests.length,
		},
	};
}

async function checkMembers(world: SyncWorld, segmentId: number): Promise<void> {
	const stored = await world.memberIds(segmentId);
	const truth = truthMemberIds(world.sim, segmentId);
	if (stored.length !== truth.length || stored.some((id, index) => id !== truth[index])) {
		throw new Error(`segment ${segmentId}: the database holds ${stored.length} members, the simulator ${truth.length}`);
	}
}

export async function benchSync(): Promise<{ efficiency: Row[]; wall: Row[] }> {
	const world = await startSyncWorld({ seed: 7, segments: [{ id: SEGMENT, name: 'Bench 20k', size: N }], rateLimit: null, logLimit: 1000 });
	const engine = (requestsPerMinute: number): SyncEngine => {
		// Nothing of an earlier run's budget in this process carries over (each engine has its own shared budget).
		rateBudgets.clear();
		return world.engine({ requestsPerMinute });
	};
	try {
		await world.addSegments(SEGMENT, FIRST_LOAD_SEGMENT);
		const visible = truthMemberIds(world.sim, SEGMENT).length;

		// 2. API efficiency.
		const fast = engine(1_000_000);
		const first = await measured(world, () => fast.syncSegments([SEGMENT], { trigger: 'cli', detailConcurrency: 8 }));
		await checkMembers(world, SEGMENT);
		const changedCount = Math.round(visible * CHANGED_SHARE);
		const changed = world.sim.mutate.change({ segmentId: SEGMENT, count: changedCount });
		const second = await measured(world, () => fast.syncSegments([SEGMENT], { trigger: 'cli', detailConcurrency: 8 }));
		await checkMembers(world, SEGMENT);
		await fast.close();
		const idealList = Math.ceil(visible / 1000) + 1;
		const efficiency: Row[] = [
			{
				run: `first load (N=${visible})`,
				'list calls': first.spent.list,
				'detail calls': first.spent.detail,
				'calls spent': first.spent.total,
				'ideal (list + detail)': idealList + visible,
				'spent / ideal': round(first.spent.total / (idealList + visible), 3),
				'DB requests': first.spent.dbRequests,
				'wall s': seconds(first.ms),
			},
			{
				run: `after ${changed.length} changed (${CHANGED_SHARE * 100}%)`,
				'list calls': second.spent.list,
				'detail calls': second.spent.detail,
				'calls spent': second.spent.total,
				'ideal (list + detail)': idealList + changed.length,
				'spent / ideal': round(second.spent.total / (idealList + changed.length), 3),
				'DB requests': second.spent.dbRequests,
				'wall s': seconds(second.ms),
			},
		];
		printTable(`API efficiency: segment of ${visible} visible leads (simulator without latency or limit)`, efficiency);

		// 3. Wall time vs the budget bound.
		world.sim.setLatency(LATENCY_MS);
		world.sim.mutate.addSegment({ id: FIRST_LOAD_SEGMENT, name: 'Bench full refresh', size: FIRST_LOAD_SIZE });
		const wall: Row[] = [];
		const account = budgetAccount(world.sim.baseUrl, world.sim.instance);
		const scenario = async (label: string, budget: number, segmentId: number, run: (engine: SyncEngine) => Promise<SegmentSyncResult[]>) => {
			world.sim.setRateLimit({ requests: LIMIT_PER_MINUTE / 6, windowMs: 10_000, mode: '429' });
			// The budget is the account's, in the database; the run asks for more, which cannot raise it.
			await world.stack.query('select sync_set_account_rate($1, $2, $3, $4)', [account.key, account.baseUrl, account.instance, budget]);
			const budgeted = engine(60_000);
			const outcome = await measured(world, () => run(budgeted));
			await checkMembers(world, segmentId);
			// As the CLI and the node do when a run ends: the engine gives its unspent slots back.
			await budgeted.close();
			const shared = budgeted.sharedBudget()?.stats();
			if (!shared || shared.fallbacks > 0) throw new Error('the run did not take its calls from the shared budget in the database');
			const boundMs = (outcome.spent.total / budget) * 60_000;
			wall.push({
				run: label,
				'server limit/min': LIMIT_PER_MINUTE,
				'account budget/min': budget,
				calls: outcome.spent.total,
				throttled: outcome.spent.throttled,
				'budget takes (DB)': shared.takes,
				'takes per call': round(shared.takes / outcome.spent.total, 3),
				'slots dropped': shared.slotsDropped,
				'slots given back': shared.slotsReleased,
				'bound s (calls ÷ budget)': seconds(boundMs),
				'wall s': seconds(outcome.ms),
				'wall / bound': round(outcome.ms / boundMs, 3),
			});
		};
		for (const budget of [LIMIT_PER_MINUTE, Math.round(LIMIT_PER_MINUTE * 0.9)]) {
			const again = world.sim.mutate.change({ segmentId: SEGMENT, count: changedCount });
			await scenario(`${visible} leads, ${again.length} changed`, budget, SEGMENT, (e) => e.syncSegments([SEGMENT], { trigger: 'cli' }));
		}
		const refreshSize = truthMemberIds(world.sim, FIRST_LOAD_SEGMENT).length;
		await scenario(`full refresh of ${refreshSize} leads`, Math.round(LIMIT_PER_MINUTE * 0.9), FIRST_LOAD_SEGMENT, (e) =>
			e.syncSegments([FIRST_LOAD_SEGMENT], { trigger: 'cli', fullRefresh: true }),
		);
		printTable(`Wall time vs the budget bound (simulator latency ${LATENCY_MS} ms per call, limit ${LIMIT_PER_MINUTE}/min as ${LIMIT_PER_MINUTE / 6} per 10 s sliding window, 429 + Retry-After)`, wall);
		saveResults('sync', { efficiency, wall });
		return { efficiency, wall };
	} finally {
		await world.stop();
	}
}

if (require.main === module) {
	benchSync().catch((error: unknown) => {
		process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
		process.exit(1);
	});
}
