import { startSyncWorld, truthMemberIds, type SyncWorld } from '../support/world';

/**
 * One source for every figure a run reports: after a run that had to walk its segment twice and met
 * failing detail calls, the result's message, its stats, the run's log row and the health view say
 * the same numbers. Leads that leave while a run pages are reported as leavers pending confirmation
 * (marked by the next run), and a lead whose detail fails and then succeeds within the run is no
 * failure of that run.
 */
describe('the figures of a run agree wherever they are read', () => {
	let world: SyncWorld;
	beforeAll(async () => {
		world = await startSyncWorld({
			seed: 55,
			segments: [
				{ id: 1301, name: 'Drifting', size: 600 },
				{ id: 1302, name: 'Leaving while paged', size: 300 },
			],
		});
		await world.addSegments(1301, 1302);
	});
	afterAll(() => world?.stop());

	async function expectFiguresAgree(result: Awaited<ReturnType<ReturnType<SyncWorld['engine']>['syncSegments']>>[number]) {
		const s = result.stats;
		expect(result.message).toContain(`${s.leadsSeen} leads seen, ${s.inserted} new, ${s.updated} updated, ${s.unchanged} unchanged, ${s.detailCalls} detail calls`);
		const [log] = await world.stack.query<{ message: string; success_rate: string | null; stats: Record<string, number>; leavers_pending: number }>(
			'select message, success_rate, stats, leavers_pending from sync_segments_logs where run_id = $1',
			[result.runId],
		);
		expect(log.message).toBe(result.message);
		// A counter the database never had to add to is absent from the log row: zero.
		const logged = (key: string) => log.stats[key] ?? 0;
		expect(['leads_seen', 'inserted', 'updated', 'unchanged', 'detail_calls', 'failed'].map(logged)).toEqual([s.leadsSeen, s.inserted, s.updated, s.unchanged, s.detailCalls, s.failed]);
		expect(log.success_rate === null ? null : Number(log.success_rate)).toBe(result.successRate);
		expect(log.leavers_pending).toBe(result.leaversPending);
		const [health] = await world.stack.query<{ last_message: string; leavers_pending: number }>(
			'select h.last_message, h.leavers_pending from sync_segments_health h where h.segment_id = $1',
			[result.segmentId],
		);
		expect(health).toEqual({ last_message: result.message, leavers_pending: result.leaversPending });
	}

	const storedMembers = async (segmentId: number) =>
		(await world.stack.query<{ lead_id: string }>('select lead_id from sync_segment_leads where segment_id = $1 and left_at is null order by lead_id', [segmentId])).map(
			(row) => Number(row.lead_id),
		);

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

	it('a lead that leaves while the first walk pages, and a detail call that fails once: success, one leaver pending, no failure', async () => {
		const members = truthMemberIds(world.sim, 1302);
		// In the order SprintHub lists them: the leaver is on page 0, the recovered lead on a later page.
		const listOrder = Array.from(world.sim.truth.segmentMemberIds(1302));
		const leaver = listOrder[20];
		// A lead no earlier sync stored (segments share leads), so it needs a detail call.
		const stored = new Set((await world.stack.query<{ id: string }>('select id from leads where id = any($1::bigint[])', [members])).map((row) => Number(row.id)));
		const recovered = listOrder.slice(100).find((id) => !stored.has(id))!;
		expect(recovered).toBeDefined();
		// Fails both attempts of its first detail call (quarantined), then answers on the re-walk.
		const fault = world.sim.faults.add({ kind: 'status', status: 503, endpoint: 'leadDetail', path: `/leads/${recovered}`, times: 2 });
		let left: number[] = [];
		const [result] = await world
			.engine({ retry: { maxAttempts: 2, baseDelayMs: 1 } })
			.syncSegments([1302], {
				trigger: 'manual',
				pageSize: 100,
				onProgress: (event) => {
					// Page 0 (with the leaver) is read and written; page 1 is read: the leaver goes now, so
					// page 2 announces one lead fewer and the segment is walked again.
					if (event.type === 'page' && event.page === 1 && left.length === 0) left = world.sim.mutate.leave(1302, [leaver]);
				},
			});
		fault.remove();
		expect(left).toEqual([leaver]);
		expect(fault.fired).toBe(2);
		expect(result).toMatchObject({ status: 'success', complete: true, leaversPending: 1, left: 0 });
		expect(result.stats.walks).toBe(2);
		expect(result.stats.failed).toBe(0);
		expect(result.message).toContain('1 leaver pending confirmation');
		// The recovered lead is stored and out of the quarantine; the leaver is still a member.
		expect(await world.stack.query('select lead_id, resolved_at is not null as resolved from sync_quarantine where segment_id = 1302')).toEqual([
			{ lead_id: String(recovered), resolved: true },
		]);
		expect(await world.stack.query('select id from leads where id = $1 and enriched_at is not null', [recovered])).toEqual([{ id: String(recovered) }]);
		expect(await storedMembers(1302)).toEqual([...members].sort((a, b) => a - b));
		await expectFiguresAgree(result);

		// The next run misses it in both walks and marks it.
		const [next] = await world.engine().syncSegments([1302], { trigger: 'manual', pageSize: 100 });
		expect(next).toMatchObject({ status: 'success', complete: true, left: 1, leaversPending: 0 });
		expect(await storedMembers(1302)).toEqual(truthMemberIds(world.sim, 1302).sort((a, b) => a - b));
		await expectFiguresAgree(next);
	});

	it('a lead that leaves between a run\'s walk and its confirming walk is pending, then marked by the next run', async () => {
		const members = truthMemberIds(world.sim, 1302);
		const before = world.sim.mutate.leave(1302, [members[5]]);
		let between: number[] = [];
		const [result] = await world.engine().syncSegments([1302], {
			trigger: 'manual',
			pageSize: 100,
			onProgress: (event) => {
				if (event.type === 'walk' && event.walk === 2 && between.length === 0) between = world.sim.mutate.leave(1302, [members[250]]);
			},
		});
		expect(between).toEqual([members[250]]);
		// The lead gone before the run is confirmed by the second walk and marked; the one gone between
		// the walks was seen by the first, so it waits for the next run.
		expect(result).toMatchObject({ status: 'success', complete: true, left: 1, leaversPending: 1 });
		expect(result.stats.walks).toBe(2);
		const stored = await storedMembers(1302);
		expect(stored).not.toContain(before[0]);
		expect(stored).toContain(between[0]);
		await expectFiguresAgree(result);

		const [next] = await world.engine().syncSegments([1302], { trigger: 'manual', pageSize: 100 });
		expect(next).toMatchObject({ status: 'success', complete: true, left: 1, leaversPending: 0 });
		expect(await storedMembers(1302)).toEqual(truthMemberIds(world.sim, 1302).sort((a, b) => a - b));
		await expectFiguresAgree(next);
	});
});
