import { startSyncWorld, truthMemberIds, type SyncWorld } from '../support/world';

/** Detail records in the database must be what SprintHub's detail endpoint says, field for field. */
async function expectLeadsMatchTruth(world: SyncWorld, ids: number[]) {
	const rows = await world.stack.query<{ id: string; raw: Record<string, unknown> }>('select id, raw from leads where id = any($1::bigint[])', [ids]);
	expect(rows).toHaveLength(ids.length);
	for (const row of rows) {
		const truth = world.sim.truth.lead(Number(row.id))!;
		for (const [key, value] of Object.entries(truth)) {
			if (value === null || value === '') continue; // the list may legitimately fill what the detail left empty
			expect({ id: row.id, key, value: row.raw[key] }).toEqual({ id: row.id, key, value });
		}
	}
}

describe('sync engine against the simulator and the real database', () => {
	let world: SyncWorld;
	beforeAll(async () => {
		world = await startSyncWorld({ seed: 7, segments: [{ id: 101, name: 'Hot leads', size: 3000 }, { id: 102, name: 'Cold', size: 400 }] });
		await world.addSegments(101, 102);
	});
	afterAll(() => world?.stop());

	it('first run: every member stored with its details; list calls ≈ N/1000 + 1, one detail call per lead', async () => {
		const engine = world.engine();
		world.sim.resetLog();
		const [result] = await engine.syncSegments([101], { trigger: 'manual' });
		expect(result).toMatchObject({ status: 'success', complete: true, segmentName: null });
		const truth = truthMemberIds(world.sim, 101);
		expect(await world.memberIds(101)).toEqual(truth);
		expect(result.stats.inserted).toBe(truth.length);
		expect(result.stats.detailCalls).toBe(truth.length);
		expect(world.sim.counters.byEndpoint.segmentLeads).toBe(Math.ceil(truth.length / 1000) + 1);
		await expectLeadsMatchTruth(world, truth.slice(0, 200));
		const [log] = await world.stack.query<{ status: string; stats: Record<string, number> }>(
			`select status, stats from sync_segments_logs where run_id = $1`,
			[result.runId],
		);
		expect(log.status).toBe('success');
		expect(log.stats).toMatchObject({ inserted: truth.length, detail_calls: truth.length });
	});

	it('second run after 1% changed, a few joined, left and deleted: detail calls ≈ changes, leavers marked', async () => {
		const changed = world.sim.mutate.change({ segmentId: 101, count: 30 });
		const joined = world.sim.mutate.join(101, 5);
		const left = world.sim.mutate.leave(101, 4);
		const deleted = world.sim.mutate.remove({ segmentId: 101, count: 2 });
		world.sim.resetLog();
		const [result] = await world.engine().syncSegments([101], { trigger: 'manual' });
		expect(result.status).toBe('success');
		expect(await world.memberIds(101)).toEqual(truthMemberIds(world.sim, 101));
		// Changed + joined leads get a detail call, and each leaver one to learn whether SprintHub deleted it.
		expect(result.stats.detailCalls).toBeGreaterThanOrEqual(changed.length + joined.length - 2);
		expect(result.stats.detailCalls).toBeLessThanOrEqual(changed.length + joined.length + left.length + deleted.length);
		expect(result.stats.left).toBe(left.length + deleted.length);
		// Deleted leads drop out of the segment like leavers, and are stamped deleted, the others not.
		expect(result.stats.deleted).toBe(deleted.length);
		const stamped = await world.stack.query<{ id: string }>('select id from leads where deleted_at is not null and id = any($1::bigint[]) order by id', [[...left, ...deleted]]);
		expect(stamped.map((row) => Number(row.id))).toEqual([...deleted].sort((a, b) => a - b));
		await expectLeadsMatchTruth(world, changed.filter((id) => !deleted.includes(id) && !left.includes(id)));
	});

	it('a run with nothing changed makes no detail call and rewrites nothing', async () => {
		world.sim.resetLog();
		const [result] = await world.engine().syncSegments([101], { trigger: 'manual' });
		expect(result.status).toBe('success');
		expect(result.stats).toMatchObject({ detailCalls: 0, inserted: 0, updated: 0 });
		expect(world.sim.counters.byEndpoint.leadDetail ?? 0).toBe(0);
	});

	it('dry run writes nothing and says what would change', async () => {
		world.sim.mutate.change({ segmentId: 102, count: 3 });
		const before = await world.stack.query('select count(*)::int as n from sync_segments_logs');
		const [result] = await world.engine().syncSegments([102], { trigger: 'manual', dryRun: true });
		expect(result.dryRun).toBe(true);
		expect(result.message).toMatch(/Nothing was written/);
		const truth = truthMemberIds(world.sim, 102);
		// Segments share leads: those 101's run already stored would be updated or stay unchanged.
		const [{ n: stored }] = await world.stack.query<{ n: number }>('select count(*)::int as n from leads where id = any($1::bigint[])', [truth]);
		expect(result.stats.inserted).toBe(truth.length - stored);
		expect(result.stats.inserted + result.stats.updated + result.stats.unchanged).toBe(truth.length);
		expect(await world.memberIds(102)).toEqual([]);
		expect(await world.stack.query('select count(*)::int as n from sync_segments_logs')).toEqual(before);
	});

	it('an unregistered segment fails with a message that says how to add it', async () => {
		const [result] = await world.engine().syncSegments([999], { trigger: 'manual' });
		expect(result.status).toBe('failed');
		expect(result.message).toMatch(/sync_add_segment\(999\)/);
	});
});

describe('housekeeping', () => {
	let world: SyncWorld;
	beforeAll(async () => {
		world = await startSyncWorld({ seed: 3, segments: [{ id: 301, name: 'Small', size: 120 }] });
		await world.addSegments(301);
	});
	afterAll(() => world?.stop());

	it('forgets a finished run’s page keys (they only dedupe retries while it runs)', async () => {
		const [result] = await world.engine().syncSegments([301], { trigger: 'manual', pageSize: 50 });
		expect(result.status).toBe('success');
		expect(result.stats.pages).toBeGreaterThanOrEqual(3);
		expect(await world.stack.query('select * from sync_run_pages where run_id = $1', [result.runId])).toEqual([]);
	});
});

describe('segments that share leads, synced together', () => {
	let world: SyncWorld;
	beforeAll(async () => {
		world = await startSyncWorld({ seed: 11, segments: [{ id: 401, name: 'A', size: 1500 }, { id: 402, name: 'B', size: 1500 }] });
		await world.addSegments(401, 402);
	});
	afterAll(() => world?.stop());

	it('spend one detail call per distinct lead, not one per segment', async () => {
		const a = truthMemberIds(world.sim, 401);
		const b = truthMemberIds(world.sim, 402);
		const union = new Set([...a, ...b]);
		const shared = a.filter((id) => b.includes(id)).length;
		expect(shared).toBeGreaterThan(50);
		world.sim.resetLog();
		const results = await world.engine().syncSegments([401, 402], { trigger: 'manual', parallel: 2 });
		expect(results.map((r) => r.status)).toEqual(['success', 'success']);
		expect(await world.memberIds(401)).toEqual(a);
		expect(await world.memberIds(402)).toEqual(b);
		const detailRequests = world.sim.counters.byEndpoint.leadDetail ?? 0;
		// Each lead once; a few may be asked twice when both runs reach it before either has asked.
		expect(detailRequests).toBeGreaterThanOrEqual(union.size);
		expect(detailRequests).toBeLessThan(union.size + shared / 2);
		expect(results[0].stats.detailCalls + results[1].stats.detailCalls).toBe(detailRequests);
	});
});
