import type { FaultHandle } from '../support/simulator';
import { startSyncWorld, truthMemberIds, type SyncWorld } from '../support/world';
import { expectRecordsMatchTruth, expectSegmentMatchesTruth, runLog } from './fixtures/syncTruth';

/** Client deadlines and retries scaled down so that faults cost milliseconds, not minutes. */
const FAST_FAILURES = {
	timeouts: { headersMs: 1_000, bodyMs: 1_000, requestMs: 3_000 },
	retry: { maxAttempts: 5, baseDelayMs: 20, maxDelayMs: 200 },
};

/** Scenario 4 of issue 4: 5xx with HTML, truncated JSON, wrong shapes, slow calls, dropped connections. */
describe('sync through faults: every failure retried, nothing lost, a lead that keeps failing is quarantined', () => {
	let world: SyncWorld;
	beforeAll(async () => {
		world = await startSyncWorld({
			seed: 31,
			segments: [
				{ id: 401, name: 'List faults', size: 1_400 },
				{ id: 402, name: 'Detail faults', size: 1_200 },
				{ id: 403, name: 'Persistent', size: 120 },
			],
		});
		await world.addSegments(401, 402, 403);
	}, 60_000);
	afterEach(() => world.sim.faults.clear());
	afterAll(() => world?.stop());

	it('list calls: the n-th call fails in each way, then a share of calls fails; the segment still arrives whole', async () => {
		// Each faulted call is followed by a good one (pages of 200: 8 list calls without faults).
		const rules: FaultHandle[] = [
			world.sim.faults.add({ kind: 'status', status: 502, endpoint: 'segmentLeads', nth: 1 }),
			world.sim.faults.add({ kind: 'status', status: 503, endpoint: 'segmentLeads', nth: 3 }),
			world.sim.faults.add({ kind: 'truncate', endpoint: 'segmentLeads', nth: 5 }),
			world.sim.faults.add({ kind: 'wrongShape', endpoint: 'segmentLeads', nth: 7 }),
			world.sim.faults.add({ kind: 'delay', delayMs: 2_000, endpoint: 'segmentLeads', nth: 9 }),
			world.sim.faults.add({ kind: 'drop', endpoint: 'segmentLeads', nth: 11 }),
			world.sim.faults.add({ kind: 'status', status: 200, body: { data: { leads: 'not a list' } }, endpoint: 'segmentLeads', nth: 13 }),
		];
		const [first] = await world.engine(FAST_FAILURES).syncSegments([401], { trigger: 'manual', pageSize: 200, detailConcurrency: 8 });
		expect(first).toMatchObject({ status: 'success', complete: true });
		for (const rule of rules) expect({ kind: rule.rule.kind, nth: rule.rule.nth, fired: rule.fired }).toEqual({ kind: rule.rule.kind, nth: rule.rule.nth, fired: 1 });
		expect(first.stats.retries).toBeGreaterThanOrEqual(rules.length);
		await expectSegmentMatchesTruth(world, 401, { sample: 300 });

		// A second run where a third of the list calls fail at random, in every way.
		const changed = world.sim.mutate.change({ segmentId: 401, count: 40 });
		const shares = (['status', 'truncate', 'wrongShape', 'drop'] as const).map((kind) =>
			world.sim.faults.add({ kind, endpoint: 'segmentLeads', share: 0.08 }),
		);
		const [second] = await world.engine(FAST_FAILURES).syncSegments([401], { trigger: 'manual', pageSize: 500 });
		expect(second).toMatchObject({ status: 'success', complete: true });
		expect(second.stats.detailCalls).toBe(changed.length);
		await expectSegmentMatchesTruth(world, 401, { changed, sample: 100 });
		expect(shares.reduce((sum, rule) => sum + rule.fired, 0)).toBe(second.stats.retries);
	}, 60_000);

	it('detail calls: a share fails in every way (5xx HTML, truncated, wrong shape, slow, dropped); every lead arrives', async () => {
		// The first rule that fires applies: the n-th call rule goes first so the shares cannot take its call.
		const rules = [
			world.sim.faults.add({ kind: 'status', status: 502, endpoint: 'leadDetail', nth: 5 }),
			world.sim.faults.add({ kind: 'status', status: 503, endpoint: 'leadDetail', share: 0.03 }),
			world.sim.faults.add({ kind: 'truncate', endpoint: 'leadDetail', share: 0.015 }),
			world.sim.faults.add({ kind: 'wrongShape', endpoint: 'leadDetail', share: 0.015 }),
			world.sim.faults.add({ kind: 'drop', endpoint: 'leadDetail', share: 0.015 }),
			world.sim.faults.add({ kind: 'delay', delayMs: 2_000, endpoint: 'leadDetail', share: 0.01, times: 3 }),
		];
		const [result] = await world.engine(FAST_FAILURES).syncSegments([402], { trigger: 'manual', detailConcurrency: 8 });
		expect(result).toMatchObject({ status: 'success', complete: true });
		expect(result.stats.failed).toBe(0);
		for (const rule of rules) expect({ kind: rule.rule.kind, fired: rule.fired > 0 }).toEqual({ kind: rule.rule.kind, fired: true });
		const faulted = rules.reduce((sum, rule) => sum + rule.fired, 0);
		expect(result.stats.retries).toBe(faulted);
		const truth = await expectSegmentMatchesTruth(world, 402);
		// Every lead was fetched once successfully; faulted calls were repeated, nothing else.
		expect(world.sim.requests.filter((entry) => entry.endpoint === 'leadDetail' && entry.status === 200 && entry.fault === null).length).toBeGreaterThanOrEqual(truth.length);
	}, 60_000);

	it('a lead whose detail keeps failing is quarantined (run partial); the next run retries it and releases it', async () => {
		const members = truthMemberIds(world.sim, 403);
		const stored = new Set((await world.stack.query<{ id: string }>('select id from leads where id = any($1::bigint[])', [members])).map((row) => Number(row.id)));
		const victim = members.find((id) => !stored.has(id))!;
		const broken = world.sim.faults.add({ kind: 'status', status: 503, path: `/leads/${victim}` });
		const [first] = await world.engine(FAST_FAILURES).syncSegments([403], { trigger: 'manual' });
		expect(first).toMatchObject({ status: 'partial', complete: true });
		expect(first.stats.failed).toBe(1);
		expect(broken.fired).toBe(FAST_FAILURES.retry.maxAttempts);
		expect(first.errors.map((error) => error.message).join('\n')).toMatch(new RegExp(`lead ${victim}`));
		// Still a member (it is in the segment), but no record was invented for it.
		expect(await world.memberIds(403)).toEqual(members);
		expect(await world.stack.query('select id from leads where id = $1', [victim])).toEqual([]);
		const open = await world.stack.query<{ lead_id: string; stage: string }>('select lead_id, stage from sync_quarantine where segment_id = 403 and resolved_at is null');
		expect(open).toEqual([{ lead_id: String(victim), stage: 'fetch' }]);
		expect(await runLog(world, first.runId)).toMatchObject({ status: 'partial', error_class: 'data' });

		broken.remove();
		world.sim.resetLog();
		const [second] = await world.engine(FAST_FAILURES).syncSegments([403], { trigger: 'manual' });
		expect(second).toMatchObject({ status: 'success', complete: true });
		expect(second.stats.detailCalls).toBe(1);
		expect(world.sim.requests.filter((entry) => entry.endpoint === 'leadDetail').map((entry) => entry.path)).toEqual([`/leads/${victim}`]);
		expect(await world.stack.query('select lead_id from sync_quarantine where segment_id = 403 and resolved_at is null')).toEqual([]);
		await expectRecordsMatchTruth(world, [victim]);
		await expectSegmentMatchesTruth(world, 403);
	}, 60_000);
});
