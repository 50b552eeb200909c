import { SyncError } from '../../engine/errors';
import { ManualClock, flushMicrotasks } from '../support/manualClock';
import { type BudgetTicket, RateBudget, RateBudgetRegistry } from '../../engine/sprinthub/rateBudget';

interface Grant {
	label: string;
	at: number;
	ticket: BudgetTicket;
}

/** Queues acquires and records when each was granted, relative to the start. */
function recorder(budget: RateBudget, clock: ManualClock) {
	const start = clock.now();
	const grants: Grant[] = [];
	const errors: { label: string; error: SyncError; at: number }[] = [];
	const take = (label: string, signal?: AbortSignal, patienceMs?: number) =>
		budget.acquire(signal, { patienceMs }).then(
			(ticket) => {
				grants.push({ label, at: clock.now() - start, ticket });
				return ticket;
			},
			(error: SyncError) => {
				errors.push({ label, error, at: clock.now() - start });
				return undefined;
			},
		);
	return { grants, errors, take };
}

describe('RateBudget spacing', () => {
	it('spaces calls evenly at the configured rate after the burst', async () => {
		const clock = new ManualClock();
		const budget = new RateBudget({ requestsPerMinute: 60, burst: 2, clock });
		const { grants, take } = recorder(budget, clock);
		for (let i = 0; i < 6; i++) void take(`c${i}`);
		await clock.advance(10_000);
		expect(grants.map((g) => g.at)).toEqual([0, 0, 1000, 2000, 3000, 4000]);
		expect(budget.stats().granted).toBe(6);
	});

	it('holds 80 requests per minute by default over a long stretch', async () => {
		const clock = new ManualClock();
		const budget = new RateBudget({ clock });
		const { grants, take } = recorder(budget, clock);
		for (let i = 0; i < 400; i++) void take(`c${i}`);
		await clock.advance(60_000);
		// burst of 2, then one every 750 ms: 2 + 80 within the first minute
		expect(grants.length).toBe(82);
		const gaps = grants.slice(2).map((g, i) => g.at - grants[i + 1].at);
		expect(Math.min(...gaps)).toBeCloseTo(750, 5);
		expect(Math.max(...gaps)).toBeCloseTo(750, 5);
		budget.close();
	});

	it('serves callers in arrival order, whichever segment they belong to', async () => {
		const clock = new ManualClock();
		const budget = new RateBudget({ requestsPerMinute: 120, burst: 1, clock });
		const { grants, take } = recorder(budget, clock);
		const order = ['list-A', 'detail-B', 'detail-A', 'list-B', 'detail-A2', 'detail-B2'];
		for (const label of order) void take(label);
		await clock.advance(5_000);
		expect(grants.map((g) => g.label)).toEqual(order);
		expect(grants.map((g) => g.at)).toEqual([0, 500, 1000, 1500, 2000, 2500]);
	});

	it('shares one budget per account key across callers of the process', () => {
		const registry = new RateBudgetRegistry();
		const a = registry.get('https://api.example|acme', { requestsPerMinute: 80 });
		const b = registry.get('https://api.example|acme');
		const c = registry.get('https://api.example|other');
		expect(b).toBe(a);
		expect(c).not.toBe(a);
		registry.get('https://api.example|acme', { requestsPerMinute: 40 });
		expect(a.configuredRequestsPerMinute).toBe(40);
		registry.clear();
		expect(registry.has('https://api.example|acme')).toBe(false);
	});
});

describe('RateBudget throttling', () => {
	it('pauses every caller on a throttle signal, then resumes at half the rate', async () => {
		const clock = new ManualClock();
		const budget = new RateBudget({ requestsPerMinute: 60, burst: 1, throttleBackoffBaseMs: 4_000, random: () => 0.5, clock });
		const { grants, take } = recorder(budget, clock);
		const first = await take('first');
		for (let i = 0; i < 4; i++) void take(`w${i}`);
		await clock.advance(0);
		// equal jitter: 4000/2 + 0.5 * 4000/2 = 3000 ms
		const waitMs = budget.reportThrottle(first!);
		expect(waitMs).toBe(3000);
		expect(budget.currentRequestsPerMinute).toBe(30);
		await clock.advance(2_999);
		expect(grants.map((g) => g.label)).toEqual(['first']);
		await clock.advance(1);
		expect(grants.map((g) => g.label)).toEqual(['first', 'w0']);
		await clock.advance(10_000);
		// after the pause: one probe, then one every 2 s (30 per minute)
		expect(grants.map((g) => g.at)).toEqual([0, 3000, 5000, 7000, 9000]);
		expect(budget.stats()).toMatchObject({ throttled: 1, rateDecreases: 1, pausedMs: 3000, currentRequestsPerMinute: 30 });
	});

	it('honours Retry-After exactly', async () => {
		const clock = new ManualClock();
		const budget = new RateBudget({ requestsPerMinute: 600, clock });
		const { grants, take } = recorder(budget, clock);
		const ticket = await take('first');
		void take('second');
		await clock.advance(0);
		expect(grants.length).toBe(2); // burst
		void take('third');
		expect(budget.reportThrottle(ticket!, 7_000)).toBe(7_000);
		await clock.advance(6_999);
		expect(grants.length).toBe(2);
		await clock.advance(1);
		expect(grants.map((g) => [g.label, g.at])).toEqual([
			['first', 0],
			['second', 0],
			['third', 7000],
		]);
	});

	it('lowers the rate once for a wave of in-flight calls throttled together', async () => {
		const clock = new ManualClock();
		const budget = new RateBudget({ requestsPerMinute: 80, burst: 3, random: () => 0, throttleBackoffBaseMs: 2_000, clock });
		const tickets = await Promise.all([budget.acquire(), budget.acquire(), budget.acquire()]);
		for (const ticket of tickets) budget.reportThrottle(ticket);
		expect(budget.currentRequestsPerMinute).toBe(40);
		expect(budget.stats()).toMatchObject({ throttled: 3, rateDecreases: 1 });
		// a second wave after the pause lowers it again and doubles the pause
		await clock.advance(1_000);
		const next = await budget.acquire();
		const pause = budget.reportThrottle(next);
		expect(budget.currentRequestsPerMinute).toBe(20);
		expect(pause).toBe(2_000); // base 2000 * 2^1 = 4000, equal jitter with random 0 gives 2000
	});

	it('backs off exponentially while throttles keep coming, up to the maximum', async () => {
		const clock = new ManualClock();
		const budget = new RateBudget({ requestsPerMinute: 60, burst: 1, random: () => 1, throttleBackoffBaseMs: 1_000, throttleBackoffMaxMs: 8_000, clock });
		const pauses: number[] = [];
		for (let i = 0; i < 6; i++) {
			const ticket = await budget.acquire();
			const pause = budget.reportThrottle(ticket);
			pauses.push(pause);
			await clock.advance(pause);
		}
		expect(pauses).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
		expect(budget.currentRequestsPerMinute).toBeCloseTo(60 / 16, 5); // floor: rate / 16
	});

	it('climbs back additively while calls succeed, never above the configured rate', async () => {
		const clock = new ManualClock();
		const budget = new RateBudget({ requestsPerMinute: 80, burst: 1, increasePerSuccess: 10, random: () => 0, clock });
		const throttled = await budget.acquire();
		budget.reportThrottle(throttled, 0);
		expect(budget.currentRequestsPerMinute).toBe(40);
		// a success from before the throttle says nothing
		const rates: number[] = [];
		for (let i = 0; i < 6; i++) {
			const pending = budget.acquire();
			await clock.advance(60_000);
			budget.reportSuccess(await pending);
			rates.push(budget.currentRequestsPerMinute);
		}
		expect(rates).toEqual([50, 60, 70, 80, 80, 80]);
	});

	it('ignores late successes of calls sent before the slow-down', async () => {
		const clock = new ManualClock();
		const budget = new RateBudget({ requestsPerMinute: 80, burst: 2, increasePerSuccess: 10, clock });
		const [early, throttledOne] = await Promise.all([budget.acquire(), budget.acquire()]);
		budget.reportThrottle(throttledOne, 1_000);
		budget.reportSuccess(early);
		expect(budget.currentRequestsPerMinute).toBe(40);
	});
});

describe('RateBudget patience', () => {
	it('rejects waiters at once with patienceExhausted when Retry-After is beyond the patience', async () => {
		const clock = new ManualClock();
		const budget = new RateBudget({ requestsPerMinute: 60, patienceMs: 10_000, clock });
		const { errors, take } = recorder(budget, clock);
		const ticket = await take('first');
		void take('a');
		void take('b');
		await clock.advance(0);
		budget.reportThrottle(ticket!, 30_000);
		await clock.advance(0);
		expect(errors.map((e) => e.label)).toEqual(['b']); // 'a' was granted by the burst before the throttle
		const error = errors[0].error;
		expect(error).toBeInstanceOf(SyncError);
		expect(error.errorClass).toBe('throttled');
		expect(error.patienceExhausted).toBe(true);
		expect(error.retryAfterMs).toBe(30_000);
		expect(error.hint).toMatch(/resumes on the next trigger/);
		const late = budget.acquire();
		await expect(late).rejects.toMatchObject({ errorClass: 'throttled', patienceExhausted: true });
		expect(budget.stats().patienceExhausted).toBe(2);
	});

	it('waits through throttling shorter than the patience and gives up once it lasts longer', async () => {
		const clock = new ManualClock();
		const budget = new RateBudget({ requestsPerMinute: 60, burst: 1, patienceMs: 20_000, throttleBackoffBaseMs: 4_000, throttleBackoffMaxMs: 4_000, random: () => 1, clock });
		const start = clock.now();
		const outcomes: string[] = [];
		let firstThrottleAt = -1;
		let gaveUpAt = -1;
		// SprintHub throttles every call: 4 s pauses until a pause would end past 20 s after the first throttle
		for (let i = 0; i < 10; i++) {
			const pending = budget.acquire().then(
				(ticket) => ({ ticket }),
				(error: SyncError) => ({ error }),
			);
			await clock.advance(4_000);
			const outcome = await pending;
			if ('ticket' in outcome) {
				outcomes.push('granted');
				if (firstThrottleAt < 0) firstThrottleAt = clock.now() - start;
				budget.reportThrottle(outcome.ticket);
			} else {
				outcomes.push(outcome.error.patienceExhausted ? 'gave-up' : 'other');
				gaveUpAt = clock.now() - start;
				break;
			}
		}
		// throttles at 4, 8, 12, 16, 20, 24 s; the pause after the one at 24 s would end 24 s into the episode
		expect(outcomes).toEqual(['granted', 'granted', 'granted', 'granted', 'granted', 'granted', 'gave-up']);
		expect(firstThrottleAt).toBe(4_000);
		expect(gaveUpAt - firstThrottleAt).toBe(24_000);
	});

	it('a success ends the throttle episode, so patience counts again from the next throttle', async () => {
		const clock = new ManualClock();
		const budget = new RateBudget({ requestsPerMinute: 60, burst: 1, patienceMs: 10_000, clock });
		let ticket = await budget.acquire();
		budget.reportThrottle(ticket, 8_000);
		let pending = budget.acquire();
		await clock.advance(8_000);
		ticket = await pending;
		budget.reportSuccess(ticket);
		pending = budget.acquire();
		await clock.advance(2_000);
		ticket = await pending;
		// 10 s after the first throttle, a fresh 8 s throttle is still within patience
		budget.reportThrottle(ticket, 8_000);
		pending = budget.acquire();
		await clock.advance(8_000);
		await expect(pending).resolves.toMatchObject({ waitedMs: 8_000 });
	});

	it('a later run gets a fresh episode even when the last one ended in exhaustion', async () => {
		const clock = new ManualClock();
		const budget = new RateBudget({ requestsPerMinute: 60, patienceMs: 5_000, clock });
		const ticket = await budget.acquire();
		budget.reportThrottle(ticket, 60_000);
		await expect(budget.acquire()).rejects.toMatchObject({ patienceExhausted: true });
		await clock.advance(3_600_000);
		await expect(budget.acquire()).resolves.toMatchObject({ waitedMs: 0 });
	});
});

describe('RateBudget cancellation', () => {
	it('rejects a queued wait promptly with a cancelled error and keeps serving the others', async () => {
		const clock = new ManualClock();
		const budget = new RateBudget({ requestsPerMinute: 60, burst: 1, clock });
		const { grants, errors, take } = recorder(budget, clock);
		const controller = new AbortController();
		void take('first');
		void take('cancelled', controller.signal);
		void take('after');
		await clock.advance(200);
		controller.abort();
		await flushMicrotasks();
		expect(errors.map((e) => [e.label, e.error.errorClass, e.at])).toEqual([['cancelled', 'cancelled', 200]]);
		await clock.advance(5_000);
		expect(grants.map((g) => [g.label, g.at])).toEqual([
			['first', 0],
			['after', 1000],
		]);
	});

	it('rejects at once when the signal is already aborted, and during a throttle pause', async () => {
		const clock = new ManualClock();
		const budget = new RateBudget({ requestsPerMinute: 60, clock });
		await expect(budget.acquire(AbortSignal.abort())).rejects.toMatchObject({ errorClass: 'cancelled' });
		const ticket = await budget.acquire();
		budget.reportThrottle(ticket, 120_000);
		const controller = new AbortController();
		const pending = budget.acquire(controller.signal, { patienceMs: 600_000 });
		await clock.advance(1_000);
		controller.abort();
		await expect(pending).rejects.toMatchObject({ errorClass: 'cancelled' });
		expect(budget.stats().queued).toBe(0);
	});

	it('counts the time callers waited', async () => {
		const clock = new ManualClock();
		const budget = new RateBudget({ requestsPerMinute: 60, burst: 1, clock });
		const a = budget.acquire();
		const b = budget.acquire();
		const c = budget.acquire();
		await clock.advance(2_000);
		expect((await a).waitedMs).toBe(0);
		expect((await b).waitedMs).toBe(1_000);
		expect((await c).waitedMs).toBe(2_000);
		expect(budget.stats().waitMs).toBe(3_000);
	});
});
