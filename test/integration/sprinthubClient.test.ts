/**
 * The SprintHub client against the simulator (a real HTTP server on 127.0.0.1): every variant of the
 * API document, and the token never leaking into an error or an event.
 */
import { createServer, type Server } from 'node:net';
import { inspect } from 'node:util';
import { type SyncError, isSyncError } from '../../engine/errors';
import {
	type SprintHubClientOptions,
	type SprintHubEvent,
	SprintHubClient,
	closeSprintHubAccounts,
} from '../../engine/sprinthub';
import { ManualClock } from '../support/manualClock';
import { waitFor } from '../support/net';
import { type Simulator, startSimulator } from '../support/simulator';

const TOKEN = '5b1f0c7e-2d4a-4e8b-9c3f-a1b2c3d4e5f6';

let sim: Simulator;
const events: SprintHubEvent[] = [];

function client(overrides: Partial<SprintHubClientOptions> = {}): SprintHubClient {
	return new SprintHubClient({
		baseUrl: sim.baseUrl,
		instance: sim.instance,
		token: sim.token,
		requestsPerMinute: 60_000,
		retryBaseDelayMs: 20,
		retryMaxDelayMs: 100,
		headersTimeoutMs: 2_000,
		bodyTimeoutMs: 2_000,
		budgetOptions: { throttleBackoffBaseMs: 100, throttleBackoffMaxMs: 400 },
		onEvent: (event) => events.push(event),
		...overrides,
	});
}

/** Runs a call that must fail and keeps its error for the redaction check. */
async function failure(promise: Promise<unknown>): Promise<SyncError> {
	try {
		await promise;
	} catch (error) {
		if (!isSyncError(error)) throw error;
		expectNoToken(error);
		return error;
	}
	throw new Error('expected the call to fail');
}

function expectNoToken(value: unknown): void {
	const views = [inspect(value, { depth: 10 }), JSON.stringify(value) ?? ''];
	if (value instanceof Error) {
		views.push(value.message, value.stack ?? '', String(value));
		const cause = (value as Error & { cause?: unknown }).cause;
		if (cause instanceof Error) views.push(cause.message, cause.stack ?? '');
	}
	for (const view of views) {
		expect(view).not.toContain(TOKEN);
		expect(view).not.toContain(encodeURIComponent(TOKEN));
	}
}

beforeEach(async () => {
	events.length = 0;
	sim = await startSimulator({ seed: 7, token: TOKEN, segments: [{ id: 101, name: 'Hot leads', size: 120 }, { id: 102, name: 'Cold', size: 5 }], rateLimit: null });
});

afterEach(async () => {
	await closeSprintHubAccounts();
	await sim.close();
	// Whatever happened in the test, no event carried the token.
	expectNoToken(events);
});


describe('addressing and authentication', () => {
	it('reads a segment page, sending instance and token the way production callers do', async () => {
		const shub = client({ baseUrl: `${sim.baseUrl}///` });
		const page = await shub.segmentPage(101, { page: 0, limit: 50 });
		expect(page.total).toBe(sim.truth.segmentMemberIds(101).length);
		expect(page.leads.map((lead) => lead.id)).toEqual(sim.truth.segmentMemberIds(101).slice(0, 50));
		expect(page.invalid).toEqual([]);
		const request = sim.requests[0];
		expect(request.method).toBe('POST');
		expect(request.path).toBe('/leadsfromtype/segment/101');
		expect(request.query.i).toBe(sim.instance);
		expect(request.tokenSources.sort()).toEqual(['header', 'query']);
		expect(request.body).toMatchObject({ page: 0, limit: 50, orderByKey: 'createDate', orderByDirection: 'asc', showAnon: false, showArchived: false });
	});

	it.each([
		['header', ['header']],
		['query', ['query']],
		['bearer', ['bearer']],
	] as const)('authenticates with the token as %s only', async (authMode, sources) => {
		const page = await client({ authMode }).segmentPage(102, { page: 0, limit: 10 });
		expect(page.leads.length).toBe(sim.truth.segmentMemberIds(102).length);
		expect(sim.requests[0].tokenSources).toEqual(sources);
	});

	it('fails fast on a wrong token with a message that says what to fix, in one call', async () => {
		const shub = client({ token: 'ffffffff-0000-4000-a000-000000000000' });
		const error = await failure(shub.segmentPage(101, { page: 0, limit: 10 }));
		expect(error).toMatchObject({ errorClass: 'configuration', code: 'invalid_token', httpStatus: 401, retryable: false });
		expect(error.hint).toMatch(/API token/);
		expect(sim.requests.length).toBe(1);
		const ping = await shub.ping();
		expect(ping).toMatchObject({ ok: false, reason: 'invalid_token' });
	});

	it('fails fast on a wrong instance and tells it apart from a wrong token', async () => {
		const shub = client({ instance: 'not-acme' });
		const error = await failure(shub.leadDetail(sim.truth.segmentMemberIds(101)[0]));
		expect(error).toMatchObject({ errorClass: 'configuration', code: 'unknown_instance' });
		expect(error.hint).toMatch(/instance/);
		expect(sim.requests.length).toBe(1);
		expect(await shub.ping()).toMatchObject({ ok: false, reason: 'unknown_instance' });
		expect(await client().ping()).toMatchObject({ ok: true, httpStatus: 200 });
	});

	it('reports an unreachable host from ping and as a transient error after bounded retries', async () => {
		const closedPort = await freePort();
		const shub = client({ baseUrl: `127.0.0.1:${closedPort}`.replace(/^/, 'http://'), maxAttempts: 3 });
		expect(await shub.ping()).toMatchObject({ ok: false, reason: 'unreachable' });
		const error = await failure(shub.segmentPage(101, { page: 0, limit: 10 }));
		expect(error).toMatchObject({ errorClass: 'transient', code: 'unreachable', attempts: 3 });
		expect(error.message).toMatch(/Gave up after 3 attempts/);
		expect(events.filter((event) => event.type === 'retry')).toHaveLength(2);
	});
});

describe('endpoints', () => {
	it('fails fast on an unknown segment, in both forms the server may use', async () => {
		const shub = client();
		const error = await failure(shub.segmentPage(999, { page: 0, limit: 10 }));
		expect(error).toMatchObject({ errorClass: 'configuration', code: 'unknown_segment', httpStatus: 404 });
		expect(error.hint).toMatch(/segment id/);
		expect(sim.requests.length).toBe(1);
		// The "empty" form cannot be told from an empty segment by the page; findSegment can.
		sim.setUnknownSegment('empty');
		expect(await shub.segmentPage(999, { page: 0, limit: 10 })).toMatchObject({ total: 0, leads: [] });
		expect(await shub.findSegment(999)).toBeNull();
		expect(await shub.findSegment(102)).toMatchObject({ id: 102, name: 'Cold' });
	});

	it('returns every field of a lead, and null for a lead that vanished', async () => {
		const shub = client();
		const [id] = sim.truth.segmentMemberIds(101);
		const lead = await shub.leadDetail(id);
		expect(lead).toEqual({ ...sim.truth.lead(id), id });
		expect(sim.requests[0].query.allFields).toBe('1');
		sim.mutate.remove([id]);
		expect(await shub.leadDetail(id)).toBeNull();
		const invalid = await failure(shub.leadDetail('12abc'));
		expect(invalid).toMatchObject({ errorClass: 'data', code: 'invalid_lead_id' });
	});

	it.each(['array', 'wrapped'] as const)('lists segments when the server answers the %s shape', async (shape) => {
		sim.setSegmentsShape(shape);
		const segments = await client().listSegments();
		expect(segments.map((segment) => [segment.id, segment.name, segment.totalLeads])).toEqual(
			sim.truth.segments().map((segment) => [segment.id, segment.name, segment.totalLeads]),
		);
		const paged = await client().listSegments({ page: 1, limit: 1 });
		expect(paged.map((segment) => segment.id)).toEqual([102]);
	});

	it('pages through all leads of the account', async () => {
		const page = await client().leadsPage(0, 50, true);
		expect(page.total).toBe(sim.truth.allLeadIds().length);
		expect(page.leads.map((lead) => lead.id)).toEqual(sim.truth.allLeadIds().slice(0, 50));
		expect(sim.requests[0].query).toMatchObject({ page: '0', limit: '50', allFields: '1' });
	});

	it('keeps unusable records apart as data errors and goes on with the rest', async () => {
		sim.faults.add({ kind: 'wrongShape', endpoint: 'segmentLeads', times: 1, body: { data: { total: 3, leads: [{ id: 'abc' }, { id: 5 }, null] } } });
		const page = await client().segmentPage(101, { page: 0, limit: 10 });
		expect(page.leads.map((lead) => lead.id)).toEqual([5]);
		expect(page.invalid.map((entry) => [entry.index, entry.error.errorClass])).toEqual([
			[0, 'data'],
			[2, 'data'],
		]);
	});
});

describe('transient failures', () => {
	it('retries 5xx gateway pages with backoff and succeeds', async () => {
		sim.faults.add({ kind: 'status', status: 502, endpoint: 'segmentLeads', times: 2 });
		const shub = client();
		const page = await shub.segmentPage(101, { page: 0, limit: 10 });
		expect(page.leads).toHaveLength(10);
		const retries = events.filter((event): event is Extract<SprintHubEvent, { type: 'retry' }> => event.type === 'retry');
		expect(retries.map((event) => [event.attempt, event.errorClass, event.code])).toEqual([
			[2, 'transient', 'http_5xx'],
			[3, 'transient', 'http_5xx'],
		]);
		expect(retries[0].message).toContain('502 Bad Gateway');
		expect(shub.stats()).toMatchObject({ requests: 3, retries: 2, throttled: 0 });
	});

	it('gives up after the bounded attempts with a clear message', async () => {
		sim.faults.add({ kind: 'status', status: 503, endpoint: 'leadDetail' });
		const error = await failure(client({ maxAttempts: 3 }).leadDetail(sim.truth.segmentMemberIds(101)[0]));
		expect(error).toMatchObject({ errorClass: 'transient', code: 'http_5xx', httpStatus: 503, attempts: 3 });
		expect(error.message).toMatch(/503 Service Temporarily Unavailable.*Gave up after 3 attempts/);
		expect(sim.requests.length).toBe(3);
	});

	it.each([
		['truncate', 'invalid_json', /not valid JSON/],
		['wrongShape', 'unexpected_shape', /"data" to be an object, got a string/],
		['drop', 'connection', /SprintHub POST \/leadsfromtype\/segment\/101 .*(lost the connection|truncated)/],
	] as const)('retries a %s answer', async (kind, code, message) => {
		sim.faults.add({ kind, endpoint: 'segmentLeads', times: 1 });
		const page = await client().segmentPage(101, { page: 0, limit: 20 });
		expect(page.leads.map((lead) => lead.id)).toEqual(sim.truth.segmentMemberIds(101).slice(0, 20));
		const retry = events.find((event): event is Extract<SprintHubEvent, { type: 'retry' }> => event.type === 'retry');
		expect(retry).toBeDefined();
		expect(retry!.errorClass).toBe('transient');
		if (code === 'connection') expect(['connection_dropped', 'truncated_body']).toContain(retry!.code);
		else expect(retry!.code).toBe(code);
		expect(retry!.message).toMatch(message);
	});

	it('times out a slow answer and retries it', async () => {
		sim.faults.add({ kind: 'delay', delayMs: 1_500, endpoint: 'leadDetail', times: 1 });
		const started = Date.now();
		const [id] = sim.truth.segmentMemberIds(101);
		const lead = await client({ headersTimeoutMs: 300 }).leadDetail(id);
		expect(lead?.id).toBe(id);
		expect(Date.now() - started).toBeLessThan(1_400);
		expect(events.find((event) => event.type === 'retry')).toMatchObject({ code: 'timeout' });
	});

	it('bounds the whole call with the request timeout too', async () => {
		sim.faults.add({ kind: 'delay', delayMs: 1_500, endpoint: 'segmentLeads', times: 1 });
		const started = Date.now();
		const page = await client({ headersTimeoutMs: 10_000, requestTimeoutMs: 300 }).segmentPage(102, { page: 0, limit: 10 });
		expect(page.total).toBe(sim.truth.segmentMemberIds(102).length);
		expect(Date.now() - started).toBeLessThan(1_400);
		const retry = events.find((event): event is Extract<SprintHubEvent, { type: 'retry' }> => event.type === 'retry');
		expect(retry).toMatchObject({ code: 'timeout' });
		expect(retry!.message).toMatch(/did not complete within 300 ms/);
	});

	it('stops promptly with a cancelled error when the signal fires mid-call', async () => {
		sim.faults.add({ kind: 'delay', delayMs: 3_000, endpoint: 'segmentLeads' });
		const controller = new AbortController();
		const started = Date.now();
		setTimeout(() => controller.abort(), 100);
		const error = await failure(client().segmentPage(101, { page: 0, limit: 10 }, controller.signal));
		expect(error.errorClass).toBe('cancelled');
		expect(Date.now() - started).toBeLessThan(1_000);
	});
});

describe('throttling', () => {
	it('pauses and slows down on 401 "too many requests", and every call still succeeds', async () => {
		sim.setRateLimit({ requests: 5, windowMs: 400, mode: '401' });
		const shub = client();
		const ids = sim.truth.segmentMemberIds(101).slice(0, 16);
		const leads = await Promise.all(ids.map((id) => shub.leadDetail(id)));
		expect(leads.map((lead) => lead?.id)).toEqual(ids);
		const stats = shub.stats();
		expect(stats.throttled).toBeGreaterThan(0);
		expect(stats.throttled).toBe(sim.counters.throttled);
		expect(stats.requests).toBe(sim.counters.total);
		expect(stats.retries).toBeGreaterThanOrEqual(stats.throttled);
		expect(events.some((event) => event.type === 'throttled' && event.httpStatus === 401 && event.waitMs > 0)).toBe(true);
		expect(shub.budgetStats().currentRequestsPerMinute).toBeLessThan(60_000);
		expect(shub.budgetStats().rateDecreases).toBeLessThan(stats.throttled + 1);
	});

	it('honours Retry-After of a 429 before sending again', async () => {
		sim.setRateLimit({ requests: 3, windowMs: 1_000, mode: '429' });
		const shub = client();
		const ids = sim.truth.segmentMemberIds(101).slice(0, 5);
		for (const id of ids) expect((await shub.leadDetail(id))?.id).toBe(id);
		const throttledEvent = events.find((event): event is Extract<SprintHubEvent, { type: 'throttled' }> => event.type === 'throttled');
		expect(throttledEvent).toMatchObject({ httpStatus: 429, retryAfterMs: 1_000 });
		const log = sim.requests;
		const refused = log.findIndex((entry) => entry.throttled);
		expect(refused).toBeGreaterThan(0);
		expect(log[refused + 1].startedAt - log[refused].startedAt).toBeGreaterThanOrEqual(990);
		expect(shub.stats().backoffMs).toBeGreaterThanOrEqual(900);
	});

	it('gives up with patienceExhausted when throttling outlasts the patience', async () => {
		sim.setRateLimit({ requests: 2, windowMs: 20_000, mode: '429' });
		const shub = client({ patienceMs: 2_000 });
		const [a, b, c] = sim.truth.segmentMemberIds(101);
		await shub.leadDetail(a);
		await shub.leadDetail(b);
		const started = Date.now();
		const error = await failure(shub.leadDetail(c));
		expect(error).toMatchObject({ errorClass: 'throttled', patienceExhausted: true, retryable: true });
		expect(error.hint).toMatch(/next trigger/);
		// At once, not after the 20 s window (a bound that only catches a wait, whatever the load).
		expect(Date.now() - started).toBeLessThan(10_000);
	});

	it('shares one budget per account between clients and spaces their calls', async () => {
		// The budget on a clock the test moves: what is checked is how many calls SprintHub received at
		// each moment, not how long a loaded machine took.
		const clock = new ManualClock();
		const first = client({ requestsPerMinute: 600, clock });
		const second = client({ requestsPerMinute: 600, clock });
		expect(second.budget).toBe(first.budget);
		const ids = sim.truth.segmentMemberIds(101).slice(0, 8);
		const before = sim.requests.length;
		const received = () => sim.requests.length - before;
		const receivedAtLeast = (n: number) => waitFor(`${n} calls at SprintHub`, async () => (received() >= n ? true : undefined), 60_000);
		const calls = Promise.all(ids.map((id, index) => (index % 2 ? first : second).leadDetail(id)));
		// 600 per minute = one call per 100 ms after a burst of 2, whichever client asks.
		await receivedAtLeast(2);
		await clock.advance(0);
		expect(received()).toBe(2);
		for (let n = 3; n <= 8; n++) {
			await clock.advance(100);
			await receivedAtLeast(n);
			expect(received()).toBe(n);
		}
		await calls;
		expect(first.stats().requests + second.stats().requests).toBe(8);
	});
});

describe('redaction', () => {
	it('keeps the token out of errors, events, results and the client itself even when the server echoes it', async () => {
		const echo = `Token inválido (apitoken=${TOKEN}, header apitoken: ${TOKEN})`;
		sim.faults.add({ kind: 'status', status: 401, endpoint: 'leadDetail', body: { msg: echo } });
		sim.faults.add({ kind: 'wrongShape', endpoint: 'segmentLeads', body: { msg: `bad request for ${TOKEN}`, data: 'x' } });
		sim.faults.add({ kind: 'status', status: 503, endpoint: 'segments', body: `<html><title>down for ${TOKEN}</title></html>` });
		const shub = client({ maxAttempts: 2 });
		const detail = await failure(shub.leadDetail(sim.truth.segmentMemberIds(101)[0]));
		expect(detail).toMatchObject({ code: 'invalid_token' });
		expect(detail.message).toContain('apitoken=[REDACTED]');
		const page = await failure(shub.segmentPage(101, { page: 0, limit: 10 }));
		expect(page).toMatchObject({ code: 'unexpected_shape' });
		expect(page.message).toContain('bad request for [REDACTED]');
		const ping = await shub.ping();
		expect(ping.ok).toBe(false);
		expectNoToken(ping);
		expect(events.filter((event) => event.type === 'retry').length).toBeGreaterThan(0);
		expectNoToken(events);
		expectNoToken(shub);
		expectNoToken(shub.stats());
		expectNoToken(shub.budgetStats());
		expect(shub.describe()).toBe(`${sim.baseUrl} (instance ${sim.instance})`);
	});

	it('keeps the token out of a configuration error raised before any call', async () => {
		const error = await failure(Promise.resolve().then(() => client({ baseUrl: `ftp://h/?apitoken=${TOKEN}` })));
		expect(error).toMatchObject({ errorClass: 'configuration', code: 'invalid_base_url' });
	});
});

function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server: Server = createServer();
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			const port = typeof address === 'object' && address ? address.port : 0;
			server.close(() => resolve(port));
		});
		server.on('error', reject);
	});
}
