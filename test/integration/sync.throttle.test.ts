import { startSyncWorld, type SyncWorld } from '../support/world';
import { expectSegmentMatchesTruth, requestedPages, runLog } from './fixtures/syncTruth';

/**
 * Scenario 3 of issue 4, time scaled down: SprintHub allows 25 calls per second while the engine is
 * configured for far more, so it is throttled again and again ("for minutes" at real scale).
 */
const THROTTLE = { backoffBaseMs: 200, backoffMaxMs: 1_000 };

describe('sync under throttling: never a failure; past its patience a run checkpoints and the next resumes', () => {
	let world: SyncWorld;
	beforeAll(async () => {
		world = await startSyncWorld({
			seed: 41,
			segments: [
				{ id: 501, name: 'Throttled 401', size: 170 },
				{ id: 502, name: 'Throttled 429', size: 170 },
				{ id: 503, name: 'Impatient', size: 900 },
			],
		});
		await world.addSegments(501, 502, 503);
	}, 60_000);
	afterAll(() => world?.stop());

	it.each([
		[501, '401'],
		[502, '429'],
	] as const)('segment %s throttled with HTTP %s: the run waits, slows down and succeeds', async (segmentId, mode) => {
		world.sim.setRateLimit({ requests: 25, windowMs: 1_000, mode });
		world.sim.resetLog();
		const throttleEvents: number[] = [];
		try {
			const [result] = await world
				.engine({ requestsPerMinute: 6_000, patienceMs: 60_000, throttle: THROTTLE })
				.syncSegments([segmentId], { trigger: 'manual', onProgress: (event) => event.type === 'throttled' && throttleEvents.push(event.waitMs) });
			expect(result).toMatchObject({ status: 'success', complete: true });
			expect(result.stats.throttled).toBeGreaterThan(0);
			expect(result.stats.throttled).toBe(world.sim.counters.throttled);
			expect(throttleEvents.length).toBe(result.stats.throttled);
			expect(result.stats.backoffMs).toBeGreaterThan(0);
			expect(result.errors).toEqual([]);
			await expectSegmentMatchesTruth(world, segmentId);
			const log = await runLog(world, result.runId);
			expect(log.status).toBe('success');
			expect(log.stats.throttled).toBe(result.stats.throttled);
		} finally {
			world.sim.setRateLimit(null);
		}
	}, 40_000);

	it('throttling that outlasts the patience: rate_limited with the checkpoint kept; the next run resumes after it', async () => {
		// Pages of 100: after the third page SprintHub lets (almost) nothing through any more.
		let blocked = false;
		const [first] = await world.engine({ requestsPerMinute: 60_000, patienceMs: 1_500, throttle: THROTTLE }).syncSegments([503], {
			trigger: 'manual',
			pageSize: 100,
			onProgress: (event) => {
				if (event.type === 'page' && event.page === 2 && !blocked) {
					blocked = true;
					world.sim.setRateLimit({ requests: 1, windowMs: 60_000, mode: '401' });
				}
			},
		});
		expect(first.status).toBe('rate_limited');
		expect(first.complete).toBe(false);
		expect(first.error).toMatchObject({ errorClass: 'throttled', patienceExhausted: true });
		expect(first.message).toMatch(/resumes/);
		expect(first.stats.throttled).toBeGreaterThan(0);
		const [control] = await world.stack.query<{ checkpoint: { nextPage: number; limit: number } | null; last_status: string; next_execution: Date }>(
			'select checkpoint, last_status, next_execution from sync_segments_control where segment_id = 503',
		);
		expect(control.last_status).toBe('rate_limited');
		expect(control.checkpoint).not.toBeNull();
		expect(control.checkpoint!.nextPage).toBeGreaterThanOrEqual(2);
		expect(control.checkpoint!.limit).toBe(100);
		expect(control.next_execution.getTime()).toBeLessThanOrEqual(Date.now());
		expect(await runLog(world, first.runId)).toMatchObject({ status: 'rate_limited' });

		// SprintHub is back to normal: the next run starts at the checkpoint and completes the pass.
		world.sim.setRateLimit(null);
		world.sim.resetLog();
		const [second] = await world.engine({ requestsPerMinute: 60_000, patienceMs: 1_500, throttle: THROTTLE }).syncSegments([503], { trigger: 'manual', pageSize: 100 });
		expect(second).toMatchObject({ status: 'success', complete: true, resumed: true });
		const pages = requestedPages(world, 503).map((page) => page.page);
		expect(pages[0]).toBe(control.checkpoint!.nextPage);
		expect(pages).toEqual(Array.from({ length: pages.length }, (_, index) => control.checkpoint!.nextPage + index));
		const truth = await expectSegmentMatchesTruth(world, 503);
		expect(pages.length).toBe(Math.ceil(truth.length / 100) + 1 - control.checkpoint!.nextPage);
		// Over both runs every lead was written or confirmed once, except the page the first run was
		// stopped in: the details it had fetched were kept (without the checkpoint), and the second run
		// read that page again and found those leads unchanged.
		const handled = (run: typeof first) => run.stats.inserted + run.stats.updated + run.stats.unchanged;
		expect(handled(first) + handled(second)).toBeGreaterThanOrEqual(truth.length);
		expect(handled(first) + handled(second)).toBeLessThan(truth.length + 100);
		const [state] = await world.stack.query<{ checkpoint: unknown }>('select checkpoint from sync_segments_control where segment_id = 503');
		expect(state.checkpoint).toBeNull();
	}, 40_000);
});
