import type { SyncProgressEvent } from '../../engine';
import { startSyncWorld, truthMemberIds, type SyncWorld } from '../support/world';

/**
 * The database's bad minutes, through the test gateway in front of PostgREST: 503s, dropped
 * connections, answers lost after the database committed, slow answers. A run rides them out within
 * its database patience and the database ends equal to SprintHub; past the patience the run fails
 * with a clear message, keeps its checkpoint, and the next run resumes.
 */
describe('sync through the database\'s bad minutes', () => {
	let world: SyncWorld;
	beforeAll(async () => {
		world = await startSyncWorld({
			seed: 12,
			segments: [
				{ id: 1201, name: 'Writes fail', size: 300 },
				{ id: 1202, name: 'Claim lost', size: 120 },
				{ id: 1203, name: 'Finish fails', size: 120 },
				{ id: 1204, name: 'Down too long', size: 400 },
				{ id: 1205, name: 'Slow database', size: 120 },
			],
		});
		await world.addSegments(1201, 1202, 1203, 1204, 1205);
	});
	afterEach(() => world.stack.gateway.clearFaults());
	afterAll(() => world?.stop());

	const logRows = (segmentId: number) =>
		world.stack.query<{ status: string; message: string }>('select status, message from sync_segments_logs where segment_id = $1 order by execution_time', [segmentId]);

	it('page writes answered 503 and dropped connections are retried: the run succeeds and nothing is lost', async () => {
		world.stack.gateway.addFault({ path: /\/rpc\/sync_apply_page$/, status: 503, body: '{"message":"upstream unavailable"}', times: 3 });
		world.stack.gateway.addFault({ path: /\/rpc\/sync_apply_page$/, drop: true, times: 2 });
		world.stack.gateway.addFault({ path: /\/rpc\/sync_markers$/, status: 500, body: '{"message":"internal"}', times: 1 });
		const retries: SyncProgressEvent[] = [];
		const [result] = await world.engine().syncSegments([1201], { trigger: 'manual', pageSize: 100, onProgress: (event) => event.type === 'retry' && retries.push(event) });
		expect(result).toMatchObject({ status: 'success', complete: true });
		expect(result.stats.databaseRetries).toBe(6);
		expect(retries).toHaveLength(6);
		expect(await world.memberIds(1201)).toEqual(truthMemberIds(world.sim, 1201));
		expect(await logRows(1201)).toEqual([expect.objectContaining({ status: 'success' })]);
	});

	it('a claim whose answer was lost is retried with the same request id: one run, not a locked segment', async () => {
		world.stack.gateway.addFault({ path: /\/rpc\/sync_claim$/, loseAnswer: true, times: 1 });
		world.stack.gateway.addFault({ path: /\/rpc\/sync_claim$/, drop: true, times: 1 });
		const [result] = await world.engine().syncSegments([1202], { trigger: 'manual' });
		expect(result).toMatchObject({ status: 'success', complete: true });
		expect(await world.memberIds(1202)).toEqual(truthMemberIds(world.sim, 1202));
		// Without the request id the retry found the segment leased by the lost attempt: skipped as busy.
		expect(await logRows(1202)).toEqual([expect.objectContaining({ status: 'success' })]);
	});

	it('a finish that fails for a while is retried: the log row closes as success', async () => {
		world.stack.gateway.addFault({ path: /\/rpc\/sync_finish$/, status: 503, times: 2 });
		world.stack.gateway.addFault({ path: /\/rpc\/sync_finish$/, loseAnswer: true, times: 1 });
		const [result] = await world.engine().syncSegments([1203], { trigger: 'manual' });
		expect(result).toMatchObject({ status: 'success', complete: true });
		expect(await logRows(1203)).toEqual([expect.objectContaining({ status: 'success' })]);
		const [control] = await world.stack.query<{ lease_run_id: string | null }>('select lease_run_id from sync_segments_control where segment_id = 1203');
		expect(control.lease_run_id).toBeNull();
	});

	it('a slow database (an answer held back for 30 s) only slows the run down', async () => {
		world.stack.gateway.addFault({ path: /\/rpc\/sync_apply_page$/, delayMs: 30_000, times: 1 });
		const [result] = await world.engine().syncSegments([1205], { trigger: 'manual' });
		expect(result).toMatchObject({ status: 'success', complete: true });
		expect(result.stats.databaseRetries).toBe(0);
		expect(await world.memberIds(1205)).toEqual(truthMemberIds(world.sim, 1205));
	}, 120_000);

	it('down for longer than the patience: the run fails saying so, keeps its checkpoint, and the next run resumes', async () => {
		let faulted = false;
		const [failed] = await world.engine().syncSegments([1204], {
			trigger: 'manual',
			pageSize: 100,
			databasePatienceMs: 1_500,
			onProgress: (event) => {
				// The database goes away after the first page is written.
				if (event.type === 'written' && !faulted) {
					faulted = true;
					world.stack.gateway.addFault({ path: /\/rpc\/sync_(apply_page|markers)$/, status: 503, times: 10_000 });
				}
			},
		});
		expect(failed.status).toBe('failed');
		expect(failed.message).toMatch(/Supabase is unavailable right now \(HTTP 503\).*database patience 2 s.*the next run resumes/);
		expect(await logRows(1204)).toEqual([expect.objectContaining({ status: 'failed' })]);
		const [control] = await world.stack.query<{ checkpoint: { nextPage: number } | null }>('select checkpoint from sync_segments_control where segment_id = 1204');
		expect(control.checkpoint?.nextPage).toBe(1);

		world.stack.gateway.clearFaults();
		const [resumed] = await world.engine().syncSegments([1204], { trigger: 'manual', pageSize: 100 });
		expect(resumed).toMatchObject({ status: 'success', resumed: true, complete: true });
		expect(await world.memberIds(1204)).toEqual(truthMemberIds(world.sim, 1204));
	});
});
