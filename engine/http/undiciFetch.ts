/**
 * A `fetch` built on undici with its own Agent and real timeouts, handed to supabase-js as
 * `global.fetch` so database calls cannot hang forever either.
 */
import { Agent, fetch as undiciFetch } from 'undici';

export interface UndiciFetchOptions {
	/** TCP+TLS connect timeout. Default 10 s. */
	connectTimeoutMs?: number;
	/** Time to the response headers (covers a slow statement). Default 60 s. */
	headersTimeoutMs?: number;
	/** Longest silence between body chunks. Default 60 s. */
	bodyTimeoutMs?: number;
	/** Idle keep-alive sockets are closed after this. Default 30 s. */
	keepAliveTimeoutMs?: number;
	/** Sockets per origin. Default 16. */
	connections?: number;
}

export interface UndiciFetch {
	/** Drop-in for the global fetch: `createClient(url, key, { global: { fetch } })`. */
	fetch: typeof globalThis.fetch;
	/** Closes the Agent's sockets (end of a CLI run, test teardown). */
	close(): Promise<void>;
}

export function createUndiciFetch(options: UndiciFetchOptions = {}): UndiciFetch {
	const agent = new Agent({
		connect: { timeout: options.connectTimeoutMs ?? 10_000 },
		headersTimeout: options.headersTimeoutMs ?? 60_000,
		bodyTimeout: options.bodyTimeoutMs ?? 60_000,
		keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
		connections: options.connections ?? 16,
	});
	const fetchWithAgent = ((input: unknown, init?: Record<string, unknown>) => {
		// A Request object of the global fetch is read field by field: undici's fetch wants its own class.
		if (input && typeof input === 'object' && !(input instanceof URL) && 'url' in input) {
			const request = input as Request;
			return undiciFetch(request.url, {
				method: request.method,
				headers: request.headers as unknown as Record<string, string>,
				body: (request.body as unknown as undefined) ?? undefined,
				signal: request.signal,
				duplex: 'half',
				...(init as object),
				dispatcher: agent,
			} as Parameters<typeof undiciFetch>[1]);
		}
		return undiciFetch(input as string, { ...(init as object), dispatcher: agent } as Parameters<typeof undiciFetch>[1]);
	}) as unknown as typeof globalThis.fetch;
	return {
		fetch: fetchWithAgent,
		close: () => agent.close(),
	};
}
