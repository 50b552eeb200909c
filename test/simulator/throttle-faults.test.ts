import { ManualClock } from '../support/manualClock';
import { waitFor } from '../support/net';
import { Simulator, startSimulator } from '../support/simulator';
import { Answer, getPath, leadDetail, segmentPage } from './client';

// Both simulators run on a clock the test moves: what these tests prove is the simulator's arithmetic
// of windows and delays, which then holds however slow or busy the machine is.

/**
 * Sends a call that the simulator must hold for `ms` on its clock: it is still unanswered at ms - 1,
 * answered at ms. The wait for the call to reach the simulator only bounds a hang.
 */
async function answeredAfter<T>(sim: Simulator, clock: ManualClock, ms: number, send: () => Promise<Answer<T>>): Promise<Answer<T>> {
	const logged = sim.requests.length;
	const answer = send();
	const entry = await waitFor('the call to wait on the simulator clock', async () => (clock.pendingTimers > 0 ? sim.requests[logged] : undefined), 10_000, 5);
	await clock.advance(ms - 1);
	expect(entry.status).toBeNull();
	expect(clock.pendingTimers).toBe(1);
	await clock.advance(1);
	const answered = await answer;
	expect(entry.durationMs).toBe(ms);
	return answered;
}

/** Sends a call that the simulator must answer with its clock standing still (a held call fails, not hangs). */
async function answeredAtOnce<T>(sim: Simulator, clock: ManualClock, send: () => Promise<Answer<T>>): Promise<Answer<T>> {
	const logged = sim.requests.length;
	const answer = send();
	const entry = await waitFor(
		'the call to be answered or held',
		async () => (sim.requests[logged] && (sim.requests[logged].status !== null || clock.pendingTimers > 0) ? sim.requests[logged] : undefined),
		10_000,
		5,
	);
	expect(clock.pendingTimers).toBe(0);
	expect(entry.durationMs).toBe(0);
	return answer;
}

describe('SprintHub simulator: throttling', () => {
	let sim: Simulator;
	const clock = new ManualClock();

	beforeAll(async () => {
		sim = await startSimulator({ seed: 3, segments: [{ id: 201, name: 'Throttled', size: 60 }], rateLimit: { requests: 20, windowMs: 1000, mode: '401' }, clock });
	});

	afterAll(async () => {
		await sim.close();
	});

	beforeEach(() => {
		sim.resetLog();
	});

	test('mode 401: past the budget calls get 401 "too many requests", logged, and the budget comes back after the window', async () => {
		sim.setRateLimit({ requests: 20, windowMs: 1000, mode: '401' });
		// All at once, so that the test does not depend on how fast this machine is.
		const answers = await Promise.all(Array.from({ length: 25 }, () => getPath(sim, '/segments')));
		expect(answers.filter((answer) => answer.status === 200)).toHaveLength(20);
		const refused = answers.filter((answer) => answer.status !== 200);
		expect(refused).toHaveLength(5);
		for (const answer of refused) {
			expect(answer.status).toBe(401);
			expect(answer.json.msg).toMatch(/too many requests/i);
		}
		expect(sim.requests).toHaveLength(25);
		expect(sim.requests.filter((entry) => entry.throttled)).toHaveLength(5);
		expect(sim.counters.throttled).toBe(5);
		expect(sim.counters.byStatus['401']).toBe(5);
		// The 20 accepted calls count for exactly one window: refused 1 ms before it ends, accepted at its end.
		await clock.advance(999);
		expect((await getPath(sim, '/segments')).status).toBe(401);
		await clock.advance(1);
		expect((await getPath(sim, '/segments')).status).toBe(200);
	});

	test('mode 429: Retry-After in seconds, then recovery', async () => {
		sim.setRateLimit({ requests: 20, windowMs: 1000, mode: '429' });
		const id = sim.truth.segmentMemberIds(201)[0];
		const answers = await Promise.all(Array.from({ length: 21 }, () => leadDetail(sim, id)));
		expect(answers.filter((answer) => answer.status === 200)).toHaveLength(20);
		const throttled = answers.find((answer) => answer.status !== 200)!;
		expect(throttled.status).toBe(429);
		expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
		expect(sim.requests.filter((entry) => entry.throttled)).toEqual([expect.objectContaining({ status: 429, endpoint: 'leadDetail' })]);
		// A client that waits as long as Retry-After says is accepted.
		await clock.advance(Number(throttled.headers.get('retry-after')) * 1000);
		expect((await leadDetail(sim, id)).status).toBe(200);
	});

	test('the window slides: calls spread over time stay within budget', async () => {
		sim.setRateLimit({ requests: 5, windowMs: 300, mode: '401' });
		const started = clock.now();
		const acceptedAt: number[] = [];
		while (acceptedAt.length < 12) {
			const answer = await getPath(sim, '/segments');
			if (answer.status === 200) acceptedAt.push(clock.now() - started);
			else await clock.advance(25);
		}
		// 12 calls at 5 per 300 ms need at least two full windows.
		expect(clock.now() - started).toBeGreaterThanOrEqual(600);
		expect(acceptedAt).toEqual([0, 0, 0, 0, 0, 300, 300, 300, 300, 300, 600, 600]);

		// Spread out, each accepted call frees its place one window after it was accepted (a fixed window
		// would accept both calls at 300 and 350).
		sim.setRateLimit({ requests: 2, windowMs: 300, mode: '401' });
		const statusAt: [number, number][] = [];
		const from = clock.now();
		for (const at of [0, 100, 200, 300, 350, 400]) {
			await clock.advance(from + at - clock.now());
			statusAt.push([at, (await getPath(sim, '/segments')).status]);
		}
		expect(statusAt).toEqual([
			[0, 200],
			[100, 200],
			[200, 401],
			[300, 200],
			[350, 401],
			[400, 200],
		]);
		sim.setRateLimit(null);
		for (let index = 0; index < 30; index++) expect((await getPath(sim, '/segments')).status).toBe(200);
	});
});

describe('SprintHub simulator: fault injection', () => {
	let sim: Simulator;
	const clock = new ManualClock();

	beforeAll(async () => {
		sim = await startSimulator({ seed: 4, segments: [{ id: 301, name: 'Faulty', size: 80 }], rateLimit: null, clock });
	});

	afterAll(async () => {
		await sim.close();
	});

	afterEach(() => {
		sim.faults.clear();
		sim.resetLog();
	});

	const page = (pageNumber = 0) => segmentPage(sim, 301, { page: pageNumber, limit: 10, query: '{total,leads{id}}' });

	test('502 and 503 with an HTML body on the n-th matching call only', async () => {
		const rule = sim.faults.add({ kind: 'status', status: 503, endpoint: 'segmentLeads', nth: 2 });
		const detailId = sim.truth.segmentMemberIds(301)[0];
		expect((await page()).status).toBe(200);
		expect((await leadDetail(sim, detailId)).status).toBe(200); // another endpoint: not counted
		const second = await page();
		expect(second.status).toBe(503);
		expect(second.headers.get('content-type')).toMatch(/text\/html/);
		expect(second.text).toMatch(/<html>/);
		expect(second.json).toBeUndefined();
		expect((await page()).status).toBe(200);
		expect(rule.fired).toBe(1);
		expect(rule.matched).toBe(3);

		sim.faults.add({ kind: 'status', times: 1 });
		const gateway = await getPath(sim, '/segments');
		expect(gateway.status).toBe(502);
		expect(gateway.text).toMatch(/Bad Gateway/);
		expect(sim.requests.filter((entry) => entry.fault === 'status').map((entry) => entry.status)).toEqual([503, 502]);
	});

	test('truncated JSON and a wrong JSON shape', async () => {
		sim.faults.add({ kind: 'truncate', times: 1 });
		const truncated = await page();
		expect(truncated.status).toBe(200);
		expect(truncated.text.length).toBeGreaterThan(0);
		expect(() => JSON.parse(truncated.text)).toThrow();
		sim.faults.add({ kind: 'wrongShape', times: 1, body: { data: { items: [] } } });
		const wrong = await page();
		expect(wrong.status).toBe(200);
		expect(wrong.json).toEqual({ data: { items: [] } });
		sim.faults.add({ kind: 'wrongShape', times: 1 });
		const defaultWrong = await page();
		expect(defaultWrong.json.data).not.toHaveProperty('leads');
		expect((await page()).json.data.leads).toHaveLength(10);
	});

	test('slow responses and per-call latency', async () => {
		sim.faults.add({ kind: 'delay', delayMs: 300, times: 1, method: 'POST' });
		let started = clock.now();
		// Held for exactly 300 ms of the simulator's clock (answeredAfter checks it is unanswered at 299).
		expect((await answeredAfter(sim, clock, 300, page)).status).toBe(200);
		expect(clock.now() - started).toBeGreaterThanOrEqual(290);
		// The next call is not delayed: it is answered while the clock stands still.
		expect((await answeredAtOnce(sim, clock, page)).status).toBe(200);
		// Measured on the simulator's clock, so a busy test machine cannot blur the difference.
		expect(sim.requests[1].durationMs).toBeLessThan(150);
		expect(sim.requests[1].durationMs).toBe(0);
		sim.setLatency(120);
		try {
			started = clock.now();
			expect((await answeredAfter(sim, clock, 120, () => getPath(sim, '/segments'))).status).toBe(200);
			expect((await answeredAfter(sim, clock, 120, () => getPath(sim, '/segments'))).status).toBe(200);
			expect(clock.now() - started).toBeGreaterThanOrEqual(230);
		} finally {
			sim.setLatency(0);
		}
		expect(sim.requests[0].durationMs).toBeGreaterThanOrEqual(290);
		expect(sim.requests.map((entry) => [entry.fault, entry.durationMs])).toEqual([
			['delay', 300],
			[null, 0],
			[null, 120],
			[null, 120],
		]);
	});

	test('a dropped connection mid-response', async () => {
		sim.faults.add({ kind: 'drop', path: '/leadsfromtype/segment/301', times: 1 });
		await expect(page()).rejects.toThrow();
		expect(sim.requests.at(-1)).toMatchObject({ fault: 'drop', status: null });
		expect((await page()).status).toBe(200);
	});

	test('a share of calls fails, reproducibly from the seed', async () => {
		const run = async (): Promise<number[]> => {
			sim.faults.clear();
			sim.faults.add({ kind: 'status', status: 502, share: 0.3, seed: 99, path: /^\/leadsfromtype\// });
			const statuses: number[] = [];
			for (let index = 0; index < 40; index++) statuses.push((await page()).status);
			return statuses;
		};
		const first = await run();
		const failures = first.filter((status) => status === 502).length;
		expect(failures).toBeGreaterThan(4);
		expect(failures).toBeLessThan(24);
		expect(await run()).toEqual(first);
	});

	test('the next k calls fail, then calls succeed; faults do not spend rate budget', async () => {
		sim.setRateLimit({ requests: 3, windowMs: 60_000 });
		try {
			sim.faults.add({ kind: 'status', status: 503, times: 3 });
			const statuses: number[] = [];
			for (let index = 0; index < 7; index++) statuses.push((await page()).status);
			expect(statuses).toEqual([503, 503, 503, 200, 200, 200, 401]);
			expect(sim.counters.faulted).toBe(3);
			expect(sim.counters.throttled).toBe(1);
		} finally {
			sim.setRateLimit(null);
		}
	});
});
