import { LIST_PROJECTION } from '../../engine/sync/projections';
import { startSyncWorld, type SyncWorld } from '../support/world';
import { expectMembersMatchTruth, expectSegmentMatchesTruth, runLog } from './fixtures/syncTruth';

/** The fields a list page carries in enrichment mode "none". */
const LIST_FIELDS = /leads\{([^}]*)\}/.exec(LIST_PROJECTION)![1].split(',');

/** Stored list records equal what SprintHub's segment list shows, field for field (sampled). */
async function expectListRecordsMatchTruth(world: SyncWorld, ids: number[]) {
	const rows = await world.stack.query<{ id: string; raw: Record<string, unknown>; change_marker: string }>(
		'select id, raw, change_marker from leads where id = any($1::bigint[]) order by id',
		[ids],
	);
	expect(rows).toHaveLength(new Set(ids).size);
	for (const row of rows) {
		const truth = world.sim.truth.listLead(Number(row.id))!;
		for (const field of LIST_FIELDS) {
			if (truth[field] === undefined) continue;
			expect({ id: row.id, field, value: row.raw[field] }).toEqual({ id: row.id, field, value: truth[field] });
		}
		expect(row.change_marker).toBe(truth.updatedDate);
	}
}

/**
 * Scenarios 1 and 6 of issue 4. The 20,000-lead segment is synced from its list pages (enrichment
 * "none": paging, membership and batching at scale in seconds); the detail path at scale, and
 * "detail calls ≈ changed leads", run on a 4,000-lead segment.
 */
describe('sync at scale: 20,000 leads, and an incremental run after 1% changed', () => {
	let world: SyncWorld;
	beforeAll(async () => {
		world = await startSyncWorld({
			seed: 11,
			maxSegmentLimit: 1000,
			segments: [
				{ id: 201, name: 'Everyone', size: 20_000 },
				{ id: 202, name: 'Buyers', size: 4_000 },
			],
		});
		await world.addSegments(201, 202);
		await world.stack.query("update sync_segments_control set enrichment_mode = 'none' where segment_id = 201");
	}, 60_000);
	afterAll(() => world?.stop());

	it('a 20,000-lead segment: every member stored once, N/1000 + 1 list calls, no detail call', async () => {
		world.sim.resetLog();
		const [result] = await world.engine().syncSegments([201], { trigger: 'manual' });
		expect(result).toMatchObject({ status: 'success', complete: true, resumed: false });
		const truth = await expectMembersMatchTruth(world, 201);
		expect(truth.length).toBeGreaterThan(18_000);
		expect(result.stats).toMatchObject({ inserted: truth.length, updated: 0, unchanged: 0, detailCalls: 0, pages: Math.ceil(truth.length / 1000) + 1 });
		expect(world.sim.counters.byEndpoint.segmentLeads).toBe(Math.ceil(truth.length / 1000) + 1);
		expect(world.sim.counters.byEndpoint.leadDetail ?? 0).toBe(0);
		const [{ n }] = await world.stack.query<{ n: number }>('select count(*)::int as n from leads');
		expect(n).toBe(truth.length);
		await expectListRecordsMatchTruth(world, truth.filter((_, index) => index % 40 === 0));
		const log = await runLog(world, result.runId);
		expect(log.stats).toMatchObject({ inserted: truth.length, leads_seen: truth.length });
	}, 60_000);

	it('the 20,000 again after 1% changed: exactly the changed leads rewritten', async () => {
		const changed = world.sim.mutate.change({ segmentId: 201, count: 200 });
		world.sim.resetLog();
		const [result] = await world.engine().syncSegments([201], { trigger: 'manual' });
		expect(result).toMatchObject({ status: 'success', complete: true });
		const truth = await expectMembersMatchTruth(world, 201);
		expect(result.stats).toMatchObject({ inserted: 0, updated: changed.length, unchanged: truth.length - changed.length, left: 0 });
		await expectListRecordsMatchTruth(world, changed);
	}, 60_000);

	it('with details: a first run fetches every lead once; after 1% changed, detail calls are the changed leads', async () => {
		world.sim.resetLog();
		const [first] = await world.engine({ requestsPerMinute: 6_000_000 }).syncSegments([202], { trigger: 'manual', detailConcurrency: 16 });
		expect(first).toMatchObject({ status: 'success', complete: true });
		const truth = await expectSegmentMatchesTruth(world, 202, { sample: 200 });
		expect(first.stats.detailCalls).toBe(truth.length);
		expect(world.sim.counters.byEndpoint.leadDetail).toBe(truth.length);

		const changed = world.sim.mutate.change({ segmentId: 202, count: Math.round(truth.length / 100) });
		world.sim.resetLog();
		const [second] = await world.engine().syncSegments([202], { trigger: 'manual', detailConcurrency: 16 });
		expect(second).toMatchObject({ status: 'success', complete: true });
		expect(second.stats.detailCalls).toBe(changed.length);
		expect(world.sim.counters.byEndpoint.leadDetail).toBe(changed.length);
		expect(world.sim.counters.byEndpoint.segmentLeads).toBe(Math.ceil(truth.length / 1000) + 1);
		expect(second.stats).toMatchObject({ inserted: 0, updated: changed.length, unchanged: truth.length - changed.length });
		await expectSegmentMatchesTruth(world, 202, { changed, sample: 50 });
	}, 60_000);
});
