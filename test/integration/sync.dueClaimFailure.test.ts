import type { EngineProgressEvent } from '../../engine';
import { startSyncWorld, truthMemberIds, type SyncWorld } from '../support/world';

/**
 * Issue 11, Sync Due: no run keeps going after the call has returned. Two slots sync due segments; a
 * claim fails for good (the database lost its functions) while the other slot's sync is in flight. No
 * further segment is claimed, and the call rejects with that error only once the running sync has
 * finished: its log row is closed and its members are stored, so the caller (the node, the CLI) may
 * close the engine without cutting a run off.
 */
describe('Sync Due when a claim fails while another run is in flight', () => {
	let world: SyncWorld;
	const LONG = 1311;
	beforeAll(async () => {
		world = await startSyncWorld({
			seed: 41,
			segments: [
				{ id: LONG, name: 'Long', size: 240 },
				{ id: 1312, name: 'Short', size: 4 },
				{ id: 1313, name: 'Not claimed', size: 4 },
			],
		});
		// Added in this order, so they fall due in this order: the long one and the short one are claimed first.
		for (const id of [LONG, 1312, 1313]) await world.addSegments(id);
	});
	afterEach(() => world.stack.gateway.clearFaults());
	afterAll(() => world?.stop());

	const logRows = () =>
		world.stack.query<{ segment_id: string; status: string }>('select segment_id, status from sync_segments_logs order by execution_time');

	it('rejects with the claim error only after the other slot’s run has finished', async () => {
		world.sim.setLatency(40);
		const events: EngineProgressEvent[] = [];
		let longRunningWhenFaulted = false;
		const onProgress = (event: EngineProgressEvent) => {
			events.push(event);
			// The short run is done and the long one still works: from now on every claim fails for good.
			if (event.type === 'finished' && event.segmentId !== LONG && !events.some((e) => e.type === 'finished' && e.segmentId === LONG)) {
				longRunningWhenFaulted = true;
				world.stack.gateway.addFault({
					path: /\/rpc\/sync_claim$/,
					status: 404,
					body: JSON.stringify({ code: 'PGRST202', message: 'Could not find the function public.sync_claim' }),
					times: 100,
				});
			}
		};
		const error = await world
			.engine()
			.syncDue({ trigger: 'schedule', parallel: 2, maxSegments: 10, onProgress })
			.then(() => undefined, (e: unknown) => e);
		// Read as the call returns, before anything else can finish the long run.
		const rowsAtReturn = await logRows();

		expect(longRunningWhenFaulted).toBe(true);
		expect(error).toMatchObject({ message: expect.stringMatching(/sync tables or functions are missing/) });
		expect(rowsAtReturn.map((row) => [Number(row.segment_id), row.status]).sort()).toEqual([
			[LONG, 'success'],
			[1312, 'success'],
		]);
		expect(events.filter((event) => event.type === 'claimed').map((event) => event.segmentId).sort()).toEqual([LONG, 1312]);
		expect(await world.memberIds(LONG)).toEqual(truthMemberIds(world.sim, LONG));
		const [control] = await world.stack.query<{ lease_run_id: string | null }>('select lease_run_id from sync_segments_control where segment_id = $1', [LONG]);
		expect(control.lease_run_id).toBeNull();
	}, 120_000);
});
