/**
 * The requester: one HTTP exchange with SprintHub through the account's keep-alive pool. It builds the
 * URL (instance, query, token in the query when the auth mode says so) and the headers, enforces the
 * whole-call deadline and the response size limit, and names network failures in words. Budget,
 * classification and retries are the client's (client.ts).
 */
import type { Pool } from 'undici';
import { cancelledError, SyncError } from '../errors';
import type { NormalizedBaseUrl } from './account';
import type { Endpoint, RawResponse } from './responses';
import type { SprintHubAuthMode } from './types';

export interface RequestSpec {
	endpoint: Endpoint;
	method: 'GET' | 'POST';
	/** Path below the base URL, without query. */
	path: string;
	query: Record<string, string | number | boolean | undefined>;
	body?: unknown;
	subject?: string;
}

export interface RequesterSettings {
	headersTimeoutMs: number;
	bodyTimeoutMs: number;
	requestTimeoutMs: number;
	maxResponseBytes: number;
	userAgent: string;
}

export class SprintHubRequester {
	// ES private fields: invisible to util.inspect, JSON.stringify and n8n's execution records.
	readonly #token: string;
	readonly #secrets: readonly string[];

	constructor(
		private readonly target: { baseUrl: NormalizedBaseUrl; instance: string; authMode: SprintHubAuthMode; pool: Pool },
		token: string,
		private readonly settings: RequesterSettings,
	) {
		this.#token = token;
		this.#secrets = [token];
	}

	private buildPath(spec: RequestSpec): string {
		const search = new URLSearchParams();
		search.set('i', this.target.instance);
		for (const [key, value] of Object.entries(spec.query)) {
			if (value !== undefined) search.set(key, String(value));
		}
		if (this.target.authMode === 'query+header' || this.target.authMode === 'query') search.set('apitoken', this.#token);
		return `${this.target.baseUrl.basePath}${spec.path}?${search.toString()}`;
	}

	private buildHeaders(spec: RequestSpec): Record<string, string> {
		const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.settings.userAgent };
		if (spec.body !== undefined) headers['content-type'] = 'application/json';
		if (this.target.authMode === 'query+header' || this.target.authMode === 'header') headers.apitoken = this.#token;
		if (this.target.authMode === 'bearer') headers.authorization = `Bearer ${this.#token}`;
		return headers;
	}

	/** One HTTP exchange: the whole body read (bounded), or the network error thrown. */
	async send(spec: RequestSpec, signal?: AbortSignal): Promise<RawResponse> {
		// One controller per call, tied to the caller's signal and to the whole-call deadline; both are
		// released when the call ends, so a run-long signal does not collect listeners.
		const controller = new AbortController();
		const abort = (): void => controller.abort();
		const deadline = setTimeout(abort, this.settings.requestTimeoutMs);
		signal?.addEventListener('abort', abort, { once: true });
		if (signal?.aborted) controller.abort();
		try {
			const response = await this.target.pool.request({
				method: spec.method,
				path: this.buildPath(spec),
				headers: this.buildHeaders(spec),
				body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
				signal: controller.signal,
				headersTimeout: this.settings.headersTimeoutMs,
				bodyTimeout: this.settings.bodyTimeoutMs,
			});
			const chunks: Buffer[] = [];
			let size = 0;
			try {
				for await (const chunk of response.body) {
					const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
					size += buffer.length;
					if (size > this.settings.maxResponseBytes) {
						throw Object.assign(new Error(`response larger than ${this.settings.maxResponseBytes} bytes`), { code: 'RESPONSE_TOO_LARGE' });
					}
					chunks.push(buffer);
				}
			} catch (error) {
				response.body.destroy();
				throw error;
			}
			return { status: response.statusCode, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') };
		} finally {
			clearTimeout(deadline);
			signal?.removeEventListener('abort', abort);
		}
	}

	/** A failure without an HTTP answer, in words: unreachable, timeout, dropped, truncated. */
	networkError(error: unknown, spec: RequestSpec, signal?: AbortSignal): SyncError {
		const what = `SprintHub ${spec.method} ${spec.path}${spec.subject ? ` (${spec.subject})` : ''}`;
		if (signal?.aborted) return cancelledError(what);
		const code = errorCode(error);
		const detail = error instanceof Error ? error.message : String(error);
		let kind: { code: string; text: string };
		switch (code) {
			case 'UND_ERR_CONNECT_TIMEOUT':
				kind = { code: 'unreachable', text: `could not connect to ${this.target.baseUrl.origin} in time` };
				break;
			case 'ECONNREFUSED':
			case 'ENOTFOUND':
			case 'EAI_AGAIN':
			case 'EHOSTUNREACH':
			case 'ENETUNREACH':
				kind = { code: 'unreachable', text: `could not reach ${this.target.baseUrl.origin} (${code})` };
				break;
			case 'UND_ERR_HEADERS_TIMEOUT':
				kind = { code: 'timeout', text: 'got no response headers in time' };
				break;
			case 'UND_ERR_BODY_TIMEOUT':
				kind = { code: 'timeout', text: 'stalled while sending the response body' };
				break;
			case 'UND_ERR_ABORTED':
			case 'ABORT_ERR':
			case 'TIMEOUT_ERR':
			case 'ERR_ABORTED':
				kind = { code: 'timeout', text: `did not complete within ${this.settings.requestTimeoutMs} ms` };
				break;
			case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
				kind = { code: 'truncated_body', text: 'sent a body shorter than announced (truncated)' };
				break;
			case 'RESPONSE_TOO_LARGE':
				kind = { code: 'response_too_large', text: detail };
				break;
			default:
				if ((error as { name?: string })?.name === 'TimeoutError' || (error as { name?: string })?.name === 'AbortError') {
					kind = { code: 'timeout', text: `did not complete within ${this.settings.requestTimeoutMs} ms` };
				} else {
					kind = { code: 'connection_dropped', text: `lost the connection (${code ?? 'network error'}: ${detail})` };
				}
		}
		return new SyncError({
			errorClass: 'transient',
			code: kind.code,
			secrets: this.#secrets,
			cause: error,
			message: `${what} ${kind.text}.`,
			hint:
				kind.code === 'unreachable'
					? 'Check the base URL in the SprintHub credential and that this machine can reach it.'
					: 'SprintHub or the network was slow or dropped the connection. Run again later; nothing is lost.',
		});
	}
}

function errorCode(error: unknown): string | undefined {
	let current: unknown = error;
	for (let depth = 0; depth < 4 && current; depth++) {
		const code = (current as { code?: unknown }).code;
		if (typeof code === 'string') return code;
		current = (current as { cause?: unknown }).cause;
	}
	return undefined;
}
