import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** One request that passed through the gateway, for tests that count or inspect database calls. */
export interface GatewayLogEntry {
	method: string;
	path: string;
	status: number;
	durationMs: number;
	faulted: boolean;
}

/** A failure the gateway answers instead of PostgREST, for the next matching requests. */
export interface GatewayFault {
	method?: string;
	path?: RegExp;
	/** How many matching requests it hits (default 1). */
	times?: number;
	status?: number;
	body?: string;
	delayMs?: number;
	/** Destroy the connection instead of answering. */
	drop?: boolean;
	/** Pass the request to PostgREST (it runs and commits), then destroy the connection: a lost answer. */
	loseAnswer?: boolean;
}

export interface Gateway {
	url: string;
	requests: GatewayLogEntry[];
	addFault(fault: GatewayFault): void;
	clearFaults(): void;
	close(): Promise<void>;
}

const INVALID_KEY = JSON.stringify({
	message: 'Invalid API key',
	hint: 'Double check your Supabase `anon` or `service_role` API key.',
});

/**
 * What Supabase's API gateway does in front of PostgREST, as far as supabase-js can tell: `/rest/v1/*`
 * maps to PostgREST's `/*`, and a request whose `apikey` is not one of the project's keys is refused
 * with 401 before it reaches the database.
 */
export async function startGateway(options: { postgrestUrl: string; validKeys: string[]; port: number }): Promise<Gateway> {
	const upstream = new URL(options.postgrestUrl);
	const requests: GatewayLogEntry[] = [];
	let faults: Array<GatewayFault & { left: number }> = [];
	const sockets = new Set<Socket>();

	const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
		const started = Date.now();
		const url = new URL(req.url ?? '/', 'http://gateway');
		const log = (status: number, faulted = false) =>
			requests.push({ method: req.method ?? 'GET', path: url.pathname, status, durationMs: Date.now() - started, faulted });
		const answer = (status: number, body: string) => {
			res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
			res.end(body);
			log(status);
		};

		const apikey = (req.headers.apikey as string | undefined) ?? url.searchParams.get('apikey') ?? undefined;
		if (!apikey) return answer(401, JSON.stringify({ message: 'No API key found in request', hint: 'No `apikey` request header or url param was found.' }));
		if (!options.validKeys.includes(apikey)) return answer(401, INVALID_KEY);
		if (!url.pathname.startsWith('/rest/v1/') && url.pathname !== '/rest/v1') {
			return answer(404, JSON.stringify({ message: 'no Route matched with those values' }));
		}

		const fault = faults.find(
			(f) => f.left > 0 && (!f.method || f.method === req.method) && (!f.path || f.path.test(url.pathname)),
		);
		if (fault) {
			fault.left -= 1;
			faults = faults.filter((f) => f.left > 0);
			setTimeout(() => {
				if (fault.drop) {
					req.socket.destroy();
					log(0, true);
					return;
				}
				if (fault.loseAnswer) {
					forward(true);
					return;
				}
				if (fault.status) {
					res.writeHead(fault.status, { 'content-type': 'application/json; charset=utf-8' });
					res.end(fault.body ?? '');
					log(fault.status, true);
					return;
				}
				forward();
			}, fault.delayMs ?? 0);
			return;
		}
		forward();

		function forward(loseAnswer = false) {
			const path = url.pathname.replace(/^\/rest\/v1/, '') || '/';
			const headers = { ...req.headers, host: upstream.host };
			const proxied = httpRequest(
				{ host: upstream.hostname, port: upstream.port, method: req.method, path: path + url.search, headers },
				(upstreamRes) => {
					if (loseAnswer) {
						upstreamRes.resume();
						upstreamRes.on('end', () => {
							req.socket.destroy();
							log(0, true);
						});
						return;
					}
					res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
					upstreamRes.pipe(res);
					upstreamRes.on('end', () => log(upstreamRes.statusCode ?? 502));
				},
			);
			proxied.on('error', (error) => {
				if (!res.headersSent) answer(502, JSON.stringify({ message: `gateway could not reach PostgREST: ${error.message}` }));
				else res.destroy();
			});
			req.pipe(proxied);
		}
	});
	server.on('connection', (socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(options.port, '127.0.0.1', () => resolve());
	});

	return {
		url: `http://127.0.0.1:${options.port}`,
		requests,
		addFault: (fault) => faults.push({ ...fault, left: fault.times ?? 1 }),
		clearFaults: () => (faults = []),
		close: () =>
			new Promise<void>((resolve) => {
				for (const socket of sockets) socket.destroy();
				server.close(() => resolve());
			}),
	};
}
