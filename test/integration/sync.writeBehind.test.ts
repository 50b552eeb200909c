import type { EngineProgressEvent } from '../../engine';
import { startSyncWorld, truthMemberIds, type SyncWorld } from '../support/world';
import { expectSegmentMatchesTruth } from './fixtures/syncTruth';

/**
 * Issue 15, item 2: writes behind fetching. While a page is written, the next page's list and detail
 * calls go ahead; at most one more page waits for the writer (backpressure); checkpoints commit in page
 * order, so a run stopped by its database resumes after the last page whose write committed.
 */
describe('sync writes behind fetching', () => {
	let world: SyncWorld;
	beforeAll(async () => {
		world = await startSyncWorld({
			seed: 16,
			segments: [
				{ id: 701, name: 'Behind', size: 450 },
				{ id: 702, name: 'Serial', size: 450 },
				{ id: 703, name: 'Broken', size: 450 },
			],
		});
		await world.addSegments(701, 702, 703);
	}, 60_000);
	afterAll(() => world?.stop());
	afterEach(() => world.stack.gateway.clearFaults());

	/** The run's page reads and writes, in the order they happened. */
	const orderOf = (events: EngineProgressEvent[]) =>
		events.filter((event) => event.type === 'page' || event.type === 'written').map((event) => (event.type === 'page' ? `read ${event.page}` : 'written'));

	it('page 1 is read and enriched while page 0 is written; page 2 waits for that write (one page ahead)', async () => {
		// The first page write is held back by the database for a while.
		world.stack.gateway.addFault({ path: /\/rpc\/sync_apply_page$/, delayMs: 8_000, times: 1 });
		const events: EngineProgressEvent[] = [];
		const [result] = await world.engine().syncSegments([701], { trigger: 'manual', pageSize: 100, onProgress: (event) => events.push(event) });
		expect(result).toMatchObject({ status: 'success', complete: true });
		const order = orderOf(events);
		expect(order.slice(0, 4)).toEqual(['read 0', 'read 1', 'written', 'read 2']);
		// Page 1's detail calls were made before page 0's write came back.
		const firstWritten = events.findIndex((event) => event.type === 'written');
		const page1 = events.findIndex((event) => event.type === 'page' && event.page === 1);
		expect(events.slice(page1, firstWritten).some((event) => event.type === 'details' && event.done > 0)).toBe(true);
		await expectSegmentMatchesTruth(world, 701);
	}, 120_000);

	it('writeAhead 0 writes each page before reading the next (as before)', async () => {
		const events: EngineProgressEvent[] = [];
		const [result] = await world.engine().syncSegments([702], { trigger: 'manual', pageSize: 100, writeAhead: 0, onProgress: (event) => events.push(event) });
		expect(result).toMatchObject({ status: 'success', complete: true });
		expect(orderOf(events).slice(0, 4)).toEqual(['read 0', 'written', 'read 1', 'written']);
		expect(await world.memberIds(702)).toEqual(truthMemberIds(world.sim, 702));
	}, 120_000);

	it('a write that fails stops the run at its page: later pages are not written, the checkpoint is the page before, the next run resumes there', async () => {
		// Page 1's write (the second apply_page call) fails for longer than the run's patience.
		let applies = 0;
		const events: EngineProgressEvent[] = [];
		const [failed] = await world.engine().syncSegments([703], {
			trigger: 'manual',
			pageSize: 100,
			databasePatienceMs: 1_000,
			onProgress: (event) => {
				events.push(event);
				if (event.type === 'written' && ++applies === 1) world.stack.gateway.addFault({ path: /\/rpc\/sync_apply_page$/, status: 503, times: 10_000 });
			},
		});
		world.stack.gateway.clearFaults();
		expect(failed.status).toBe('failed');
		expect(events.filter((event) => event.type === 'written')).toHaveLength(1);
		const [control] = await world.stack.query<{ checkpoint: { nextPage: number } | null }>('select checkpoint from sync_segments_control where segment_id = 703');
		expect(control.checkpoint?.nextPage).toBe(1);

		const pagesAsked: number[] = [];
		const [resumed] = await world.engine().syncSegments([703], {
			trigger: 'manual',
			pageSize: 100,
			onProgress: (event) => event.type === 'page' && pagesAsked.push(event.page),
		});
		expect(resumed).toMatchObject({ status: 'success', resumed: true });
		expect(pagesAsked[0]).toBe(1);
		expect(await world.memberIds(703)).toEqual(truthMemberIds(world.sim, 703));
	}, 120_000);
});
