/** The undici-based fetch handed to supabase-js: it works as global.fetch and has real timeouts. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from '@supabase/supabase-js';
import ws from 'ws';
import { createUndiciFetch } from '../../engine/http/undiciFetch';

interface Seen {
	method: string;
	url: string;
	headers: IncomingMessage['headers'];
	body: string;
}

let server: Server;
let baseUrl: string;
const seen: Seen[] = [];
const pendingTimers = new Set<NodeJS.Timeout>();

beforeAll(async () => {
	server = createServer((request: IncomingMessage, response: ServerResponse) => {
		let body = '';
		request.on('data', (chunk) => (body += chunk));
		request.on('end', () => {
			seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
			if (request.url?.startsWith('/slow')) {
				const timer = setTimeout(() => response.end('late'), 3_000);
				pendingTimers.add(timer);
				return;
			}
			response.writeHead(200, { 'content-type': 'application/json' });
			response.end(JSON.stringify({ echoed: body ? JSON.parse(body) : null }));
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
	for (const timer of pendingTimers) clearTimeout(timer);
	server.closeAllConnections();
	await new Promise<void>((resolve) => server.close(() => resolve()));
});

it('serves supabase-js RPC calls with the headers supabase-js adds', async () => {
	const undici = createUndiciFetch();
	try {
		const supabase = createClient(baseUrl, 'service-role-key-for-test', {
			global: { fetch: undici.fetch },
			realtime: { transport: ws as unknown as never },
			auth: { persistSession: false, autoRefreshToken: false },
		});
		const { data, error } = await supabase.rpc('sync_upsert_page', { p_segment_id: 101, p_leads: [{ id: 1 }] });
		expect(error).toBeNull();
		expect(data).toEqual({ echoed: { p_segment_id: 101, p_leads: [{ id: 1 }] } });
		const request = seen[seen.length - 1];
		expect(request.method).toBe('POST');
		expect(request.url).toBe('/rest/v1/rpc/sync_upsert_page');
		expect(request.headers.apikey).toBe('service-role-key-for-test');
		expect(request.headers.authorization).toBe('Bearer service-role-key-for-test');
	} finally {
		await undici.close();
	}
});

it('gives up on a server that does not answer within the headers timeout', async () => {
	const undici = createUndiciFetch({ headersTimeoutMs: 200 });
	const started = Date.now();
	try {
		await expect(undici.fetch(`${baseUrl}/slow`)).rejects.toThrow(/fetch failed/);
		expect(Date.now() - started).toBeLessThan(1_500);
	} finally {
		await undici.close();
	}
});

it('accepts a Request object and an AbortSignal', async () => {
	const undici = createUndiciFetch();
	try {
		const response = await undici.fetch(new Request(`${baseUrl}/echo`, { method: 'POST', body: JSON.stringify({ a: 1 }), headers: { 'content-type': 'application/json' } }));
		expect(await response.json()).toEqual({ echoed: { a: 1 } });
		const controller = new AbortController();
		const pending = undici.fetch(`${baseUrl}/slow`, { signal: controller.signal });
		setTimeout(() => controller.abort(), 50);
		await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
	} finally {
		await undici.close();
	}
});
