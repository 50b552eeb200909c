import { Simulator, startSimulator } from '../support/simulator';
import { allIds, getPath, leadDetail, segmentPage } from './client';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const SEGMENTS = [
	{ id: 401, name: 'Dinâmico', size: 300 },
	{ id: 402, name: 'Outro', size: 100 },
];

describe('SprintHub simulator: mutations while a sync runs', () => {
	let sim: Simulator;

	beforeEach(async () => {
		sim = await startSimulator({ seed: 11, segments: SEGMENTS, rateLimit: null });
	});

	afterEach(async () => {
		await sim.close();
	});

	test('join: existing leads enter in createDate order, new leads at the end', async () => {
		const before = sim.truth.segmentMemberIds(401);
		const joined = sim.mutate.join(401, 6);
		expect(joined).toHaveLength(6);
		for (const id of joined) expect(before).not.toContain(id);
		const after = await allIds(sim, 401, 100);
		expect(after).toHaveLength(before.length + 6);
		expect(after).toEqual(sim.truth.segmentMemberIds(401));
		expect(new Set(after)).toEqual(new Set([...before, ...joined]));
		// Old leads land among the others, which is what shifts offset pages.
		expect(joined.some((id) => after.indexOf(id) < after.length - 6)).toBe(true);

		const fresh = sim.mutate.join(401, 2, { newLeads: true });
		expect((await allIds(sim, 401, 100)).slice(-2)).toEqual(fresh);
		const detail = await leadDetail(sim, fresh[0]);
		expect(detail.status).toBe(200);
		expect(Date.now() - Date.parse(detail.json.data.lead.createDate)).toBeLessThan(60_000);

		const outsiders = before.filter((id) => !sim.truth.segmentMemberIds(402).includes(id)).slice(0, 2);
		const insider = sim.truth.segmentMemberIds(402)[0];
		// Joining an id that is already a member is a no-op and is not reported.
		expect(sim.mutate.join(402, [...outsiders, insider])).toEqual(outsiders);
		const explicit = outsiders;
		expect(sim.truth.segmentMemberIds(402)).toEqual(expect.arrayContaining(explicit));
	});

	test('leave: gone from the segment, still a lead', async () => {
		const before = sim.truth.segmentMemberIds(401);
		const left = sim.mutate.leave(401, 4);
		expect(left).toHaveLength(4);
		const after = await allIds(sim, 401, 100);
		expect(after).toHaveLength(before.length - 4);
		for (const id of left) {
			expect(after).not.toContain(id);
			expect((await leadDetail(sim, id)).status).toBe(200);
		}
		const total = await segmentPage(sim, 401, { page: 0, limit: 1, query: '{total}' });
		expect(total.json.data.total).toBe(before.length - 4);
	});

	test('change: updatedDate moves forward and fields change, in detail and list alike', async () => {
		const [first, second] = sim.truth.segmentMemberIds(401);
		const before = sim.truth.lead(first)!;
		const changed = sim.mutate.change({ segmentId: 401, count: 5 });
		expect(changed).toHaveLength(5);
		for (const id of changed) expect(Date.parse(sim.truth.lead(id)!.updatedDate as string)).toBeGreaterThan(Date.parse('2025-06-01T00:00:00.000Z'));

		sim.mutate.change([first], { points: '999', tipo_de_compra: 'atacado', city: 'Manaus' });
		const detail = await leadDetail(sim, first);
		expect(detail.json.data.lead).toMatchObject({ points: '999', tipo_de_compra: 'atacado', city: 'Manaus' });
		expect(Date.parse(detail.json.data.lead.updatedDate)).toBeGreaterThan(Date.parse(before.updatedDate as string));
		expect(detail.json.data.lead.createDate).toBe(before.createDate);
		const listed = await segmentPage(sim, 401, { page: 0, limit: 1, query: '{leads{id,updatedDate,points,city}}' });
		expect(listed.json.data.leads[0]).toEqual({ id: first, updatedDate: detail.json.data.lead.updatedDate, points: '999', city: 'Manaus' });
		// A second change moves it again, even within the same millisecond.
		sim.mutate.change([first]);
		expect(Date.parse(sim.truth.lead(first)!.updatedDate as string)).toBeGreaterThan(Date.parse(detail.json.data.lead.updatedDate));

		sim.mutate.change([second], { archived: true });
		expect(sim.truth.segmentMemberIds(401)).not.toContain(second);
		expect(sim.truth.segmentMemberIds(401, { showArchived: true })).toContain(second);
		expect((await leadDetail(sim, second)).json.data.lead.archived).toBe(true);
	});

	test('remove: detail 404, gone from every segment and from GET /leads', async () => {
		const id = sim.truth.segmentMemberIds(401)[5];
		sim.mutate.join(402, [id]);
		const totalBefore = (await getPath(sim, '/leads?page=0&limit=1')).json.data.total;
		expect(sim.mutate.remove([id])).toEqual([id]);
		expect((await leadDetail(sim, id)).status).toBe(404);
		expect(sim.truth.lead(id)).toBeUndefined();
		expect(await allIds(sim, 401, 100)).not.toContain(id);
		expect(await allIds(sim, 402, 100)).not.toContain(id);
		expect((await getPath(sim, '/leads?page=0&limit=1')).json.data.total).toBe(totalBefore - 1);
		const removed = sim.mutate.remove({ segmentId: 401, count: 3 });
		expect(removed).toHaveLength(3);
		for (const gone of removed) expect((await leadDetail(sim, gone)).status).toBe(404);
		expect(sim.mutate.remove([id])).toEqual([]);
	});

	test('scheduled on the n-th request: leads leaving mid-scan shift offset pages', async () => {
		const members = sim.truth.segmentMemberIds(401);
		const leaving = members.slice(0, 5);
		sim.schedule({ atRequest: 3 }, () => sim.mutate.leave(401, leaving));
		const seen = await allIds(sim, 401, 20);
		// Pages 0 and 1 came before the change; from page 2 on everything moved up by five.
		const stillMembers = sim.truth.segmentMemberIds(401);
		const missed = stillMembers.filter((id) => !seen.includes(id));
		expect(missed).toEqual(members.slice(40, 45));
		expect(sim.requests[2].seq - sim.requests[0].seq).toBe(2);
	});

	test('scheduled after some milliseconds, and cancellable', async () => {
		const before = sim.truth.segmentMemberIds(402).length;
		sim.schedule({ afterMs: 50 }, () => sim.mutate.join(402, 3));
		const cancel = sim.schedule({ afterMs: 60 }, () => sim.mutate.join(402, 100));
		cancel();
		expect(sim.truth.segmentMemberIds(402)).toHaveLength(before);
		await sleep(150);
		expect(sim.truth.segmentMemberIds(402)).toHaveLength(before + 3);
	});

	test('the mutation stream is seeded: the same calls give the same ids', async () => {
		const twin = await startSimulator({ seed: 11, segments: SEGMENTS, rateLimit: null });
		try {
			expect(twin.mutate.join(401, 4)).toEqual(sim.mutate.join(401, 4));
			expect(twin.mutate.leave(401, 4)).toEqual(sim.mutate.leave(401, 4));
			expect(twin.mutate.remove({ segmentId: 402, count: 2 })).toEqual(sim.mutate.remove({ segmentId: 402, count: 2 }));
			expect(twin.truth.segmentMemberIds(401)).toEqual(sim.truth.segmentMemberIds(401));
		} finally {
			await twin.close();
		}
	});
});

describe('SprintHub simulator: request log, counters and close', () => {
	test('every call is logged with the token redacted; counters by endpoint', async () => {
		const sim = await startSimulator({ seed: 12, segments: SEGMENTS, rateLimit: { requests: 4, windowMs: 60_000 } });
		try {
			const body = { page: 0, limit: 5, query: '{total,leads{id}}', showArchived: false };
			await segmentPage(sim, 401, body, 'query');
			await leadDetail(sim, sim.truth.segmentMemberIds(401)[0]);
			await getPath(sim, '/segments', 'bearer');
			await getPath(sim, '/leads?page=0&limit=2');
			await getPath(sim, '/leads?page=1&limit=2');
			expect(sim.requests.map((entry) => [entry.method, entry.endpoint, entry.status, entry.throttled])).toEqual([
				['POST', 'segmentLeads', 200, false],
				['GET', 'leadDetail', 200, false],
				['GET', 'segments', 200, false],
				['GET', 'leads', 200, false],
				['GET', 'leads', 401, true],
			]);
			const [first, second, third] = sim.requests;
			expect(first.path).toBe('/leadsfromtype/segment/401');
			expect(first.query).toEqual({ i: sim.instance, apitoken: '[redacted]' });
			expect(first.body).toEqual(body);
			expect(first.tokenSources).toEqual(['query']);
			expect(second.query).toEqual({ i: sim.instance, allFields: '1' });
			expect(second.tokenSources).toEqual(['header']);
			expect(third.tokenSources).toEqual(['bearer']);
			for (const entry of sim.requests) expect(entry.durationMs).toBeGreaterThanOrEqual(0);
			expect(JSON.stringify(sim.requests)).not.toContain(sim.token);
			expect(sim.counters).toMatchObject({ total: 5, throttled: 1, faulted: 0, byEndpoint: { segmentLeads: 1, leadDetail: 1, segments: 1, leads: 2, other: 0 } });
			sim.resetLog();
			expect(sim.requests).toEqual([]);
			expect(sim.counters.total).toBe(0);
		} finally {
			await sim.close();
		}
	});

	test('close() ends in-flight calls and keep-alive sockets, and the port stops answering', async () => {
		const sim = await startSimulator({ seed: 13, segments: SEGMENTS, rateLimit: null });
		expect((await getPath(sim, '/segments')).status).toBe(200); // leaves a keep-alive socket open
		sim.faults.add({ kind: 'delay', delayMs: 30_000 });
		sim.schedule({ afterMs: 30_000 }, () => undefined);
		const inFlight = getPath(sim, '/segments').then(
			() => 'answered',
			() => 'failed',
		);
		await sleep(50);
		const started = Date.now();
		await sim.close();
		expect(Date.now() - started).toBeLessThan(1000);
		expect(await inFlight).toBe('failed');
		await expect(fetch(`${sim.baseUrl}/segments?i=${sim.instance}`)).rejects.toThrow();
	});
});
