import { startSyncWorld, truthMemberIds, type SyncWorld } from '../support/world';

/**
 * One source for every figure a run reports: after a run that had to walk its segment twice and met
 * failing detail calls, the result's message, its stats, the run's log row and the health view say
 * the same numbers.
 */
describe('the figures of a run agree wherever they are read', () => {
	let world: SyncWorld;
	beforeAll(async () => {
		world = await startSyncWorld({ seed: 55, segments: [{ id: 1301, name: 'Drifting', size: 600 }] });
		await world.addSegments(1301);
	});
	afterAll(() => world?.stop());

	async function expectFiguresAgree(result: Awaited<ReturnType<ReturnType<SyncWorld['engine']>['syncSegments']>>[number]) {
		const s = result.stats;
		expect(result.message).toContain(`${s.leadsSeen} leads seen, ${s.inserted} new, ${s.updated} updated, ${s.unchanged} unchanged, ${s.detailCalls} detail calls`);
		const [log] = await world.stack.query<{ message: string; success_rate: string | null; stats: Record<string, number> }>(
			'select message, success_rate, stats from sync_segments_logs where run_id = $1',
			[result.runId],
		);
		expect(log.message).toBe(result.message);
		// A counter the database never had to add to is absent from the log row: zero.
		const logged = (key: string) => log.stats[key] ?? 0;
		expect(['leads_seen', 'inserted', 'updated', 'unchanged', 'detail_calls'].map(logged)).toEqual([s.leadsSeen, s.inserted, s.updated, s.unchanged, s.detailCalls]);
		expect(log.success_rate === null ? null : Number(log.success_rate)).toBe(result.successRate);
		const [health] = await world.stack.query<{ last_message: string }>('select last_message from sync_segments_health where segment_id = $1', [result.segmentId]);
		expect(health.last_message).toBe(result.message);
	}

	it('a first sync that walks twice and quarantines leads', async () => {
		const members = truthMemberIds(world.sim, 1301);
		// Leads join and leave after the first page: the segment is walked again.
		world.sim.schedule({ atRequest: 60 }, () => {
			world.sim.mutate.join(1301, 7);
			world.sim.mutate.leave(1301, members.slice(400, 405));
		});
		// Three leads whose detail calls keep failing: quarantined, counted as failed, not as unchanged.
		for (const id of members.slice(10, 13)) world.sim.faults.add({ kind: 'status', status: 503, endpoint: 'leadDetail', path: `/leads/${id}` });
		const [result] = await world.engine({ retry: { maxAttempts: 2, baseDelayMs: 1 } }).syncSegments([1301], { trigger: 'manual', pageSize: 100 });
		world.sim.faults.clear();
		expect(result.status).toBe('partial');
		expect(result.stats.walks).toBeGreaterThanOrEqual(2);
		expect(result.stats.failed).toBe(3);
		// A first sync of an empty database: everybody is new but the quarantined, nobody unchanged.
		expect(result.stats.unchanged).toBe(0);
		// (a lead that left between the walks was inserted too, so at least all but the quarantined)
		expect(result.stats.inserted).toBeGreaterThanOrEqual(result.stats.leadsSeen - result.stats.failed);
		await expectFiguresAgree(result);
	});

	it('the next run, confirming leavers with a second walk, and an empty segment', async () => {
		world.sim.mutate.leave(1301, 3);
		const [result] = await world.engine().syncSegments([1301], { trigger: 'manual', pageSize: 100 });
		expect(result).toMatchObject({ status: 'success', complete: true });
		expect(result.stats.walks).toBe(2);
		await expectFiguresAgree(result);

		world.sim.mutate.leave(1301, truthMemberIds(world.sim, 1301));
		await world.stack.query('update sync_segments_control set max_leave_share = 1 where segment_id = 1301');
		const [empty] = await world.engine().syncSegments([1301], { trigger: 'manual', pageSize: 100 });
		expect(empty.stats.leadsSeen).toBe(0);
		await expectFiguresAgree(empty);
	});
});
