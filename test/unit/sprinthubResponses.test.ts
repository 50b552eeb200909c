import { inspect } from 'node:util';
import { SyncError, toSyncError } from '../../engine/errors';
import { redactSecrets } from '../../engine/redaction';
import { accountKey, normalizeBaseUrl, normalizeInstance } from '../../engine/sprinthub/account';
import {
	type CallContext,
	type Endpoint,
	type RawResponse,
	classifyResponse,
	parseLeadDetail,
	parseLeadPage,
	parseRetryAfter,
	parseSegments,
} from '../../engine/sprinthub/responses';

const TOKEN = '7f3c2a10-9b4e-4c1d-a2f3-5e6d7c8b9a01';
const NOW = Date.parse('2024-05-01T12:00:00.000Z');

function ctx(endpoint: Endpoint = 'segmentPage'): CallContext {
	return { endpoint, method: endpoint === 'segmentPage' ? 'POST' : 'GET', path: '/leadsfromtype/segment/42', subject: 'segment 42, page 0', secrets: [TOKEN], now: NOW };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): RawResponse {
	return { status, headers: { 'content-type': 'application/json', ...headers }, text: JSON.stringify(body) };
}

function errorOf(result: ReturnType<typeof classifyResponse>): SyncError {
	if (!('error' in result)) throw new Error(`expected an error, got ${JSON.stringify(result)}`);
	return result.error;
}

describe('redactSecrets', () => {
	it('removes the token in every form it can take in a URL, a header or a message', () => {
		const text = [
			`https://api.example/leads/1?i=acme&apitoken=${TOKEN}&allFields=1`,
			`apitoken: ${TOKEN}`,
			`Authorization: Bearer ${TOKEN}`,
			`encoded ${encodeURIComponent(`${TOKEN} x`)}`,
			`upper ${TOKEN.toUpperCase()}`,
		].join('\n');
		const redacted = redactSecrets(text, [TOKEN]);
		expect(redacted).not.toContain(TOKEN);
		expect(redacted.toLowerCase()).not.toContain(TOKEN.toLowerCase());
		expect(redacted).toContain('i=acme&apitoken=[REDACTED]&allFields=1');
		expect(redacted).toContain('Bearer [REDACTED]');
	});

	it('removes a token it was not told about when it sits in an apitoken parameter or header', () => {
		const other = 'abcdef12-3456-7890-abcd-ef1234567890';
		const redacted = redactSecrets(`GET /leads?apitoken=${other}&i=x {"apitoken":"${other}"}`);
		expect(redacted).not.toContain(other);
	});

	it('keeps secrets out of the message, the stack, the cause and the JSON of a SyncError', () => {
		const cause = new Error(`connect failed for https://h/x?apitoken=${TOKEN}`);
		const error = new SyncError({ errorClass: 'transient', message: `call with ${TOKEN} failed`, hint: `token ${TOKEN}`, cause, secrets: [TOKEN] });
		for (const shown of [error.message, error.stack ?? '', error.hint, JSON.stringify(error), inspect(error, { depth: 5 }), String((error as Error & { cause?: Error }).cause?.stack)]) {
			expect(shown).not.toContain(TOKEN);
		}
		expect(error.retryable).toBe(true);
		expect(error.toJSON()).toMatchObject({ errorClass: 'transient', retryable: true, name: 'SyncError' });
		expect(toSyncError(new Error(`boom ${TOKEN}`), [TOKEN]).message).toBe('boom [REDACTED]');
	});
});

describe('addressing', () => {
	it('accepts the base URL with or without scheme and with trailing slashes', () => {
		expect(normalizeBaseUrl('sprinthub-api-master.sprinthub.app').display).toBe('https://sprinthub-api-master.sprinthub.app');
		expect(normalizeBaseUrl(' https://api.sprinthub.app/// ').display).toBe('https://api.sprinthub.app');
		expect(normalizeBaseUrl('http://127.0.0.1:8080/api/').basePath).toBe('/api');
		expect(normalizeBaseUrl(`api.sprinthub.app/?i=acme&apitoken=${TOKEN}`).display).toBe('https://api.sprinthub.app');
		expect(accountKey('API.sprinthub.app/', 'Acme')).toBe(accountKey('https://api.sprinthub.app', 'acme'));
	});

	it('refuses an empty or malformed base URL or instance with a configuration error that says what to fix', () => {
		expect(() => normalizeBaseUrl('  ')).toThrow(expect.objectContaining({ errorClass: 'configuration', code: 'missing_base_url' }));
		expect(() => normalizeBaseUrl('ftp://x.example')).toThrow(expect.objectContaining({ code: 'invalid_base_url' }));
		expect(() => normalizeInstance('')).toThrow(expect.objectContaining({ code: 'missing_instance', hint: expect.stringContaining('subdomain') }));
		expect(() => normalizeInstance('https://acme.sprinthub.app')).toThrow(expect.objectContaining({ code: 'invalid_instance' }));
	});
});

describe('classifyResponse', () => {
	it('treats 401 "too many requests" in any case as throttled, and a bare 401 as a bad token', () => {
		for (const msg of ['too many requests', 'Too Many Requests', 'TOO MANY REQUESTS, slow down']) {
			const error = errorOf(classifyResponse(json(401, { msg }), ctx()));
			expect(error).toMatchObject({ errorClass: 'throttled', httpStatus: 401, retryable: true });
		}
		const bad = errorOf(classifyResponse(json(401, { msg: 'Token inválido' }), ctx()));
		expect(bad).toMatchObject({ errorClass: 'configuration', code: 'invalid_token', retryable: false });
		expect(bad.hint).toMatch(/API token/);
		expect(bad.message).toContain('Token inválido');
	});

	it('retries a 401 whose JSON body arrived cut short (the soak saw a throttle read as a bad token), but not an empty or HTML one', () => {
		const cut = { status: 401, headers: { 'content-type': 'application/json' }, text: '{"msg":"too ma' };
		const error = errorOf(classifyResponse(cut, ctx()));
		expect(error).toMatchObject({ errorClass: 'transient', code: 'unreadable_401', retryable: true });
		expect(error.message).toMatch(/HTTP 401 with a body that is not valid JSON/);
		for (const text of ['', '<html><body>Unauthorized</body></html>']) {
			const refused = errorOf(classifyResponse({ status: 401, headers: {}, text }, ctx()));
			expect(refused).toMatchObject({ errorClass: 'configuration', code: 'invalid_token', retryable: false });
		}
	});

	it('reads Retry-After from a 429 as seconds or as a date, and accepts a 429 without it', () => {
		expect(errorOf(classifyResponse(json(429, { msg: 'Too Many Requests' }, { 'retry-after': '7' }), ctx()))).toMatchObject({
			errorClass: 'throttled',
			retryAfterMs: 7000,
		});
		const dated = errorOf(classifyResponse(json(429, {}, { 'retry-after': new Date(NOW + 12_000).toUTCString() }), ctx()));
		expect(dated.retryAfterMs).toBe(12_000);
		const bare = errorOf(classifyResponse({ status: 429, headers: {}, text: '' }, ctx()));
		expect(bare.errorClass).toBe('throttled');
		expect(bare.retryAfterMs).toBeUndefined();
		expect(parseRetryAfter('soon', NOW)).toBeUndefined();
	});

	it('recognises an unknown or missing instance whatever the status', () => {
		for (const [status, msg] of [
			[400, 'Cliente não definido'],
			[401, 'Cliente não encontrado'],
			[200, 'Cliente nao definido'],
		] as const) {
			const error = errorOf(classifyResponse(json(status, { msg }), ctx()));
			expect(error).toMatchObject({ errorClass: 'configuration', code: 'unknown_instance' });
			expect(error.hint).toMatch(/instance/);
		}
	});

	it('gives 404 a meaning per endpoint: vanished lead, unknown segment, wrong base URL', () => {
		expect(classifyResponse(json(404, { msg: 'Lead não encontrado' }), ctx('leadDetail'))).toEqual({ vanished: true });
		expect(errorOf(classifyResponse(json(404, { msg: 'Segmento não encontrado' }), ctx()))).toMatchObject({
			errorClass: 'configuration',
			code: 'unknown_segment',
		});
		const html404 = { status: 404, headers: { 'content-type': 'text/html' }, text: '<html><title>Not Found</title></html>' };
		expect(errorOf(classifyResponse(html404, ctx('leadDetail')))).toMatchObject({ code: 'not_found', hint: expect.stringContaining('base URL') });
		expect(errorOf(classifyResponse(json(403, { msg: 'Forbidden' }), ctx()))).toMatchObject({ errorClass: 'configuration', code: 'forbidden' });
	});

	it('classifies gateway pages, HTML, truncated and empty bodies as transient', () => {
		const gateway = { status: 502, headers: { 'content-type': 'text/html' }, text: '<html><head><title>502 Bad Gateway</title></head></html>' };
		const error = errorOf(classifyResponse(gateway, ctx()));
		expect(error).toMatchObject({ errorClass: 'transient', code: 'http_5xx', httpStatus: 502 });
		expect(error.message).toContain('502 Bad Gateway');
		expect(errorOf(classifyResponse({ status: 200, headers: {}, text: '<!doctype html><p>maintenance' }, ctx()))).toMatchObject({ code: 'html_body' });
		const truncated = errorOf(classifyResponse({ status: 200, headers: {}, text: '{"data":{"total":3,"leads":[{"id":1},' }, ctx()));
		expect(truncated).toMatchObject({ errorClass: 'transient', code: 'invalid_json' });
		expect(truncated.message).toMatch(/not valid JSON/);
		expect(errorOf(classifyResponse({ status: 200, headers: {}, text: '' }, ctx()))).toMatchObject({ code: 'invalid_json' });
		expect(errorOf(classifyResponse(json(200, { msg: 'Too many requests' }), ctx()))).toMatchObject({ errorClass: 'throttled' });
	});

	it('never lets the token into a message even when the server echoes it', () => {
		const error = errorOf(classifyResponse(json(401, { msg: `Token inválido: ${TOKEN}` }), ctx()));
		expect(error.message).not.toContain(TOKEN);
		expect(JSON.stringify(error)).not.toContain(TOKEN);
	});
});

describe('shape validation', () => {
	it('reads a lead page with loose types and sets aside records without a usable id', () => {
		const page = parseLeadPage(
			{ data: { total: '4', leads: [{ id: 10, email: '' }, { id: '11' }, { id: 'abc' }, { fullname: 'no id' }, 'text', { id: 0 }, { id: 2.5 }] } },
			ctx(),
		);
		expect(page.total).toBe(4);
		expect(page.leads.map((lead) => lead.id)).toEqual([10, 11]);
		expect(page.invalid.map((entry) => entry.index)).toEqual([2, 3, 4, 5, 6]);
		expect(page.invalid.every((entry) => entry.error.errorClass === 'data')).toBe(true);
		expect(page.invalid[0].error.message).toMatch(/no positive integer id \(id is "abc"\)/);
		expect(page.received).toBe(7);
	});

	it('says exactly what is wrong with an unexpected shape', () => {
		expect(() => parseLeadPage({ result: 'ok', data: 'unexpected' }, ctx())).toThrow(/"data" to be an object, got a string/);
		expect(() => parseLeadPage({ data: { leads: [] } }, ctx())).toThrow(/"data.total" is missing/);
		expect(() => parseLeadPage({ data: { total: 1, leads: {} } }, ctx())).toThrow(/"data.leads" is an object, not an array/);
		expect(() => parseLeadPage([], ctx())).toThrow(expect.objectContaining({ errorClass: 'transient', code: 'unexpected_shape' }));
	});

	it('reads a lead detail, null when the lead is gone, and refuses a different lead', () => {
		expect(parseLeadDetail({ data: { lead: { id: '5', owner: 3 } } }, ctx('leadDetail'), 5)).toEqual({ id: 5, owner: 3 });
		expect(parseLeadDetail({ data: { lead: null } }, ctx('leadDetail'), 5)).toBeNull();
		expect(() => parseLeadDetail({ data: { lead: { id: 6 } } }, ctx('leadDetail'), 5)).toThrow(expect.objectContaining({ errorClass: 'data', code: 'lead_id_mismatch' }));
		expect(() => parseLeadDetail({ data: {} }, ctx('leadDetail'), 5)).toThrow(/"data.lead" is missing/);
	});

	it('accepts both segment list shapes', () => {
		const items = [
			{ id: 1, name: 'Hot', alias: 'hot', isPublished: true, category: { id: 2, title: 'Sales' }, totalLeads: '30', lastLeadUpdate: '' },
			{ id: '2', name: 'Cold' },
			{ name: 'no id' },
		];
		const bare = parseSegments(items, ctx('segments'));
		const wrapped = parseSegments({ data: { segments: items } }, ctx('segments'));
		expect(wrapped).toEqual(bare);
		expect(bare.map((segment) => [segment.id, segment.name, segment.totalLeads])).toEqual([
			[1, 'Hot', 30],
			[2, 'Cold', null],
		]);
		expect(bare[0].category).toEqual({ id: 2, title: 'Sales' });
		expect(() => parseSegments({ data: { segments: 'x' } }, ctx('segments'))).toThrow(/"data.segments" is a string/);
		expect(() => parseSegments('x', ctx('segments'))).toThrow(/expected a JSON array/);
	});
});
