import { isSyncError } from '../../../engine/errors';
import { MARKER_PROJECTION } from '../../../engine/sync/projections';
import { firstPass } from '../../../engine/sync/runCheckpoint';
import { SegmentWalker } from '../../../engine/sync/segmentWalker';
import { segmentPage } from '../../simulator/client';
import { startSimulator, type Simulator } from '../../support/simulator';
import { closeClients, dryRunParts } from './support';

/** A walker over the simulator whose page handler records what it was given. */
function walkerOf(sim: Simulator, segmentId: number, settings: { pageSize?: number; maxWalks?: number } = {}) {
	const parts = dryRunParts(sim, segmentId);
	const handled: { ids: number[]; pageKey: string; checkpoint: Record<string, unknown> }[] = [];
	const noStore = { leaveCandidates: async () => 0 };
	const walker = new SegmentWalker(
		{ ...parts, store: noStore },
		{ pass: firstPass(settings.pageSize ?? 1000, 'changed'), projection: MARKER_PROJECTION, maxWalks: settings.maxWalks ?? 3 },
		async (leads, pageKey, checkpoint) => {
			handled.push({ ids: leads.map((lead) => lead.id), pageKey, checkpoint });
		},
	);
	return { walker, handled, tally: parts.tally };
}

describe('SegmentWalker: pages, page size, re-walks, the end', () => {
	let sim: Simulator;
	beforeEach(async () => {
		sim = await startSimulator({
			rateLimit: null,
			maxSegmentLimit: 100,
			unknownSegment: 'empty',
			segments: [
				{ id: 101, name: 'Hot', size: 250 },
				{ id: 102, name: 'Cold', size: 120 },
			],
		});
	});
	afterEach(async () => {
		await closeClients();
		await sim.close();
	});

	it('learns the page size the server honours on page 0 and sees the whole segment, ending on an empty page', async () => {
		const { walker, handled, tally } = walkerOf(sim, 101, { pageSize: 1000 });
		expect(await walker.walk()).toEqual({ complete: true, incompleteReason: '', walk: 1 });
		expect(handled.flatMap((page) => page.ids)).toEqual(sim.truth.segmentMemberIds(101));
		expect(handled.map((page) => page.pageKey)).toEqual(['1:0', '1:1', '1:2']);
		// What the last page's write stores: the next run would start after it, at the honoured size.
		const visible = sim.truth.segmentMemberIds(101).length; // archived and anonymous leads are not listed
		expect(handled[2].checkpoint).toMatchObject({ nextPage: 3, limit: 100, seen: visible, total: visible, shifted: false });
		expect(tally.stats).toMatchObject({ pages: 4, walks: 1, leadsSeen: visible });
	});

	it('walks again when the segment moves under it, so that nobody who stayed is missed', async () => {
		const { walker, handled, tally } = walkerOf(sim, 101, { pageSize: 100 });
		// Five leads join after the first page was read: the total moves.
		sim.schedule({ atRequest: 2 }, () => sim.mutate.join(101, 5));
		expect(await walker.walk()).toEqual({ complete: true, incompleteReason: '', walk: 2 });
		expect(tally.stats.walks).toBe(2);
		expect(handled.map((page) => page.pageKey).filter((key) => key.startsWith('2:'))).toEqual(['2:0', '2:1', '2:2']);
		expect(new Set(handled.flatMap((page) => page.ids))).toEqual(new Set(sim.truth.segmentMemberIds(101)));
	});

	it('gives up on a stable view after the allowed walks and says why', async () => {
		const { walker, tally } = walkerOf(sim, 101, { pageSize: 100, maxWalks: 1 });
		sim.schedule({ atRequest: 2 }, () => sim.mutate.leave(101, 3));
		const outcome = await walker.walk();
		expect(outcome).toEqual({ complete: false, incompleteReason: 'The segment kept changing during 1 walks; leavers will be marked after a stable run.', walk: 1 });
		expect(tally.stats.walks).toBe(1);
	});

	it('stops paging when the server answers the same page twice', async () => {
		const first = await segmentPage(sim, 102, { page: 0, limit: 100, query: MARKER_PROJECTION });
		sim.faults.add({ kind: 'wrongShape', endpoint: 'segmentLeads', nth: 2, body: first.json });
		const { walker, handled, tally } = walkerOf(sim, 102, { pageSize: 100 });
		const outcome = await walker.walk();
		expect(outcome).toEqual({ complete: false, incompleteReason: 'SprintHub returned page 1 identical to the page before; paging stopped.', walk: 1 });
		expect(handled).toHaveLength(1);
		expect(tally.errors).toEqual([expect.objectContaining({ code: 'repeated_page', errorClass: 'transient' })]);
	});

	it('an empty segment that the account does not list is a configuration error, not an empty sync', async () => {
		const { walker, handled } = walkerOf(sim, 999);
		const error = await walker.walk().then(
			() => undefined,
			(thrown: unknown) => thrown,
		);
		expect(isSyncError(error) && error.toJSON()).toMatchObject({ errorClass: 'configuration', code: 'unknown_segment' });
		expect(handled).toHaveLength(0);
	});
});
