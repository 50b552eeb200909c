import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { AccountState } from './account';
import { Endpoint, FaultInjector, FaultRule, GATEWAY_PAGE } from './faults';
import { LeadRecord } from './leads';
import { parseSelection, project, ProjectionSyntaxError, Selection } from './projection';

/** The HTTP side of the simulator: routing, authentication, throttling, faults, latency and the request log. */

export type ThrottleMode = '401' | '429';

export interface RateLimit {
	requests: number;
	windowMs: number;
	mode?: ThrottleMode;
}

/**
 * The time the HTTP side runs on: the rate window, latency, delay faults, `afterMs` schedules and the
 * log's times. The engine's ManualClock fits, so a test can move time instead of sleeping.
 */
export interface SimulatorClock {
	now(): number;
	/** Resolves after ms; may resolve or reject early once the signal aborts (close() aborts it). */
	sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export type SegmentsShape = 'array' | 'wrapped';
export type UnknownSegmentForm = 'error' | 'empty';
export type TokenSource = 'query' | 'header' | 'bearer';

export interface RequestLogEntry {
	/** 1-based arrival number since the simulator started (not reset by resetLog). */
	seq: number;
	method: string;
	path: string;
	endpoint: Endpoint;
	/** Query parameters with `apitoken` replaced by "[redacted]". */
	query: Record<string, string>;
	/** Where the request carried a token (never the token itself). */
	tokenSources: TokenSource[];
	/** The parsed JSON body, the raw text when it is not JSON, undefined when there was none. */
	body: unknown;
	/** HTTP status sent; null while in flight or when the connection was dropped. */
	status: number | null;
	durationMs: number;
	throttled: boolean;
	fault: FaultRule['kind'] | null;
	startedAt: number;
}

export interface RequestCounters {
	total: number;
	byEndpoint: Record<Endpoint, number>;
	byStatus: Record<string, number>;
	throttled: number;
	faulted: number;
}

export interface ServerSettings {
	instance: string;
	token: string;
	maxSegmentLimit: number;
	maxLeadsLimit: number;
	rateLimit: RateLimit | null;
	latencyMs: number;
	segmentsShape: SegmentsShape;
	unknownSegment: UnknownSegmentForm;
	/** Keep at most this many log entries (the oldest go first); counters are unaffected. */
	logLimit: number;
	/** The segment list with `allFields=1`: see ListFullRecords. */
	listFullRecords: ListFullRecords;
}

/**
 * How the segment list answers `allFields=1` (servers differ, and nothing documents it):
 * - allFields 'ignored': as without it (list form, owner as {completName}, the projection picks);
 * - 'honoured': each lead as the detail endpoint gives it (plus fullname), the projection still picks;
 * - omits: fields left out of list records even when honoured (only for `omitFor` leads when given).
 */
export interface ListFullRecords {
	allFields: 'ignored' | 'honoured';
	omits?: string[];
	omitFor?: number[];
}

interface Reply {
	status: number;
	body: unknown;
	headers?: Record<string, string>;
	throttled?: boolean;
}

const REDACTED = '[redacted]';
const DEFAULT_PAGE_LIMIT = 100;
const DEFAULT_LIST_SELECTION = '{total,leads{id,fullname,email,photoUrl,points,city,state,country,lastActive,archived,owner{completName},companyData{companyname},createDate,updatedDate}}';
const SHORT_DETAIL_FIELDS = ['id', 'firstname', 'lastname', 'email', 'phone', 'mobile', 'whatsapp', 'company', 'owner', 'stage', 'points', 'archived', 'createDate', 'updatedDate', 'lastActive'];
/** Lead fields that can be answered from the account index without generating the record. */
const CHEAP_FIELDS = new Set(['id', 'createDate', 'updatedDate', 'archived']);

function emptyCounters(): RequestCounters {
	return { total: 0, byEndpoint: { segmentLeads: 0, leadDetail: 0, segments: 0, leads: 0, other: 0 }, byStatus: {}, throttled: 0, faulted: 0 };
}

export function classify(pathname: string): Endpoint {
	if (/^\/leadsfromtype\/segment\/[^/]+\/?$/.test(pathname)) return 'segmentLeads';
	if (/^\/leads\/[^/]+\/?$/.test(pathname)) return 'leadDetail';
	if (/^\/leads\/?$/.test(pathname)) return 'leads';
	if (/^\/segments\/?$/.test(pathname)) return 'segments';
	return 'other';
}

/** A lenient integer read, as the API reads "2" and 2 alike. */
function toInt(value: unknown, fallback: number): number {
	if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
	if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) return Number.parseInt(value, 10);
	return fallback;
}

export class SimulatorServer {
	readonly server: Server;
	readonly log: RequestLogEntry[] = [];
	counters: RequestCounters = emptyCounters();
	private readonly sockets = new Set<Socket>();
	private readonly timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
	private requestHooks: { atSeq: number; run: () => void }[] = [];
	private seq = 0;
	private closed = false;
	private accepted: number[] = [];
	/** Aborted by close(): ends every wait on a given clock. */
	private readonly closing = new AbortController();

	constructor(
		readonly account: AccountState,
		readonly faults: FaultInjector,
		readonly settings: ServerSettings,
		/** Absent: the wall clock and real timers. */
		private readonly clock?: SimulatorClock,
	) {
		this.server = createServer({ keepAlive: true }, (request, response) => {
			this.handle(request, response).catch((error: unknown) => {
				if (!response.headersSent && !response.destroyed) {
					response.writeHead(500, { 'content-type': 'application/json' });
					response.end(JSON.stringify({ msg: `simulator error: ${error instanceof Error ? error.message : String(error)}` }));
				}
			});
		});
		this.server.on('connection', (socket: Socket) => {
			this.sockets.add(socket);
			socket.on('close', () => this.sockets.delete(socket));
		});
	}

	listen(port: number, host: string): Promise<number> {
		return new Promise((resolve, reject) => {
			this.server.once('error', reject);
			this.server.listen(port, host, () => {
				this.server.off('error', reject);
				const address = this.server.address();
				resolve(typeof address === 'object' && address ? address.port : port);
			});
		});
	}

	/** Runs `run` just before the request that arrives `requestsFromNow` requests from now (1 = the next one). */
	onRequest(requestsFromNow: number, run: () => void): () => void {
		const hook = { atSeq: this.seq + Math.max(1, Math.trunc(requestsFromNow)), run };
		this.requestHooks.push(hook);
		return () => {
			this.requestHooks = this.requestHooks.filter((candidate) => candidate !== hook);
		};
	}

	/** A timer that close() cancels. */
	after(ms: number, run: () => void): () => void {
		if (this.clock) {
			const cancel = new AbortController();
			const onClose = (): void => cancel.abort();
			this.closing.signal.addEventListener('abort', onClose, { once: true });
			this.clock.sleep(Math.max(0, ms), cancel.signal).then(
				() => {
					this.closing.signal.removeEventListener('abort', onClose);
					if (!cancel.signal.aborted && !this.closed) run();
				},
				() => this.closing.signal.removeEventListener('abort', onClose),
			);
			return () => cancel.abort();
		}
		const handle = {
			timer: setTimeout(() => {
				this.timers.delete(handle);
				if (!this.closed) run();
			}, ms),
			resolve: () => undefined,
		};
		this.timers.add(handle);
		return () => {
			clearTimeout(handle.timer);
			this.timers.delete(handle);
		};
	}

	resetLog(): void {
		this.log.length = 0;
		this.counters = emptyCounters();
	}

	resetThrottle(): void {
		this.accepted = [];
	}

	async close(): Promise<void> {
		this.closed = true;
		this.closing.abort();
		for (const handle of this.timers) {
			clearTimeout(handle.timer);
			handle.resolve();
		}
		this.timers.clear();
		this.requestHooks = [];
		const closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
		for (const socket of this.sockets) socket.destroy();
		this.server.closeAllConnections();
		await closing;
	}

	private sleep(ms: number): Promise<void> {
		if (ms <= 0) return Promise.resolve();
		if (this.clock) return this.clock.sleep(ms, this.closing.signal).catch(() => undefined);
		return new Promise((resolve) => {
			const handle = {
				timer: setTimeout(() => {
					this.timers.delete(handle);
					resolve();
				}, ms),
				resolve,
			};
			this.timers.add(handle);
		});
	}

	/** Epoch milliseconds: the log's startedAt and the rate window. */
	private now(): number {
		return this.clock ? this.clock.now() : Date.now();
	}

	/** For durations: sub-millisecond and monotonic on the wall clock. */
	private tick(): number {
		return this.clock ? this.clock.now() : performance.now();
	}

	private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
		const started = this.tick();
		const url = new URL(request.url ?? '/', 'http://simulator.local');
		const method = (request.method ?? 'GET').toUpperCase();
		const endpoint = classify(url.pathname);
		const query: Record<string, string> = {};
		for (const [name, value] of url.searchParams) query[name] = name.toLowerCase() === 'apitoken' ? REDACTED : value;
		const entry: RequestLogEntry = {
			seq: ++this.seq,
			method,
			path: url.pathname,
			endpoint,
			query,
			tokenSources: this.tokenSources(url, request).map((source) => source.source),
			body: undefined,
			status: null,
			durationMs: 0,
			throttled: false,
			fault: null,
			startedAt: this.now(),
		};
		this.log.push(entry);
		if (this.log.length > this.settings.logLimit) this.log.splice(0, this.log.length - this.settings.logLimit);
		this.counters.total++;
		this.counters.byEndpoint[endpoint]++;
		const due = this.requestHooks.filter((hook) => hook.atSeq <= entry.seq);
		if (due.length > 0) {
			this.requestHooks = this.requestHooks.filter((hook) => hook.atSeq > entry.seq);
			for (const hook of due) hook.run();
		}

		const rawBody = await this.readBody(request);
		let parsedBody: unknown;
		let bodyIsJson = true;
		if (rawBody.length > 0) {
			try {
				parsedBody = JSON.parse(rawBody);
			} catch {
				parsedBody = rawBody;
				bodyIsJson = false;
			}
		}
		entry.body = parsedBody;

		const fault = this.faults.decide(method, endpoint, url.pathname);
		if (fault) {
			entry.fault = fault.kind;
			this.counters.faulted++;
		}
		await this.sleep(this.settings.latencyMs);
		if (fault?.kind === 'delay') await this.sleep(fault.delayMs ?? 2000);
		if (this.closed) return;

		const finish = (status: number | null): void => {
			entry.status = status;
			entry.durationMs = this.tick() - started;
			if (status !== null) this.counters.byStatus[String(status)] = (this.counters.byStatus[String(status)] ?? 0) + 1;
		};

		if (fault?.kind === 'status') {
			const status = fault.status ?? 502;
			const text = fault.body === undefined ? GATEWAY_PAGE(status) : typeof fault.body === 'string' ? fault.body : JSON.stringify(fault.body);
			response.writeHead(status, { 'content-type': typeof fault.body === 'object' ? 'application/json' : 'text/html', 'content-length': Buffer.byteLength(text) });
			response.end(text);
			finish(status);
			return;
		}

		const reply = bodyIsJson ? this.reply(method, url, request, endpoint, parsedBody) : { status: 400, body: { msg: 'JSON inválido no corpo da requisição' } };
		if (reply.throttled) {
			entry.throttled = true;
			this.counters.throttled++;
		}
		let status = reply.status;
		let text = JSON.stringify(reply.body);
		if (fault?.kind === 'wrongShape') {
			status = 200;
			text = JSON.stringify(fault.body ?? { result: 'ok', data: 'unexpected' });
		}
		if (fault?.kind === 'truncate') text = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
		const headers = { 'content-type': 'application/json; charset=utf-8', ...reply.headers };
		if (fault?.kind === 'drop') {
			const bytes = Buffer.from(text);
			response.writeHead(status, { ...headers, 'content-length': bytes.length });
			response.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => {
				request.socket.destroy();
			});
			finish(null);
			return;
		}
		response.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(text) });
		response.end(text);
		finish(status);
	}

	private readBody(request: IncomingMessage): Promise<string> {
		return new Promise((resolve, reject) => {
			const chunks: Buffer[] = [];
			request.on('data', (chunk: Buffer) => chunks.push(chunk));
			request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
			request.on('error', reject);
			// A client that gives up mid-body must not leave the handler waiting forever.
			request.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
		});
	}

	private tokenSources(url: URL, request: IncomingMessage): { source: TokenSource; token: string }[] {
		const found: { source: TokenSource; token: string }[] = [];
		const fromQuery = url.searchParams.get('apitoken');
		if (fromQuery !== null) found.push({ source: 'query', token: fromQuery });
		const fromHeader = request.headers.apitoken;
		if (typeof fromHeader === 'string') found.push({ source: 'header', token: fromHeader });
		const authorization = request.headers.authorization;
		if (typeof authorization === 'string' && /^bearer\s+/i.test(authorization)) found.push({ source: 'bearer', token: authorization.replace(/^bearer\s+/i, '').trim() });
		return found;
	}

	/** Sliding window over accepted calls: a call is refused while `requests` calls were accepted in the last window. */
	private throttle(): Reply | undefined {
		const limit = this.settings.rateLimit;
		if (!limit) return undefined;
		const now = this.now();
		while (this.accepted.length > 0 && this.accepted[0] <= now - limit.windowMs) this.accepted.shift();
		if (this.accepted.length < limit.requests) {
			this.accepted.push(now);
			return undefined;
		}
		if (limit.mode === '429') {
			const retryAfterSeconds = Math.max(1, Math.ceil((this.accepted[0] + limit.windowMs - now) / 1000));
			return { status: 429, body: { msg: 'Too Many Requests' }, headers: { 'retry-after': String(retryAfterSeconds) }, throttled: true };
		}
		return { status: 401, body: { msg: 'too many requests' }, throttled: true };
	}

	private reply(method: string, url: URL, request: IncomingMessage, endpoint: Endpoint, body: unknown): Reply {
		const instance = url.searchParams.get('i');
		if (instance === null || instance.trim() === '') return { status: 400, body: { msg: 'Cliente não definido' } };
		if (instance !== this.settings.instance) return { status: 401, body: { msg: 'Cliente não encontrado' } };
		const throttled = this.throttle();
		if (throttled) return throttled;
		const tokens = this.tokenSources(url, request);
		if (tokens.length === 0) return { status: 401, body: { msg: 'Token não informado' } };
		// Every token the call carries must be right: a stale one next to a good one is still refused.
		if (tokens.some((found) => found.token !== this.settings.token)) return { status: 401, body: { msg: 'Token inválido' } };

		const id = url.pathname.split('/').filter(Boolean).pop() ?? '';
		try {
			switch (endpoint) {
				case 'segmentLeads':
					if (method !== 'POST') return { status: 405, body: { msg: 'Método não permitido' } };
					return this.segmentLeads(id, body, url.searchParams.get('allFields') === '1');
				case 'leadDetail':
					if (method !== 'GET') return { status: 405, body: { msg: 'Método não permitido' } };
					return this.leadDetail(id, url);
				case 'segments':
					if (method !== 'GET') return { status: 405, body: { msg: 'Método não permitido' } };
					return this.segmentList(url);
				case 'leads':
					if (method !== 'GET') return { status: 405, body: { msg: 'Método não permitido' } };
					return this.allLeads(url);
				default:
					return { status: 404, body: { msg: 'Rota não encontrada' } };
			}
		} catch (error) {
			if (error instanceof ProjectionSyntaxError) return { status: 400, body: { msg: `Query inválida: ${error.message}` } };
			throw error;
		}
	}

	private segmentLeads(rawId: string, body: unknown, allFields: boolean): Reply {
		if (!/^\d+$/.test(rawId)) return { status: 400, body: { msg: 'Segmento inválido' } };
		const segmentId = Number(rawId);
		const options = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
		const selection = parseSelection(typeof options.query === 'string' && options.query.trim() !== '' ? options.query : DEFAULT_LIST_SELECTION);
		if (!this.account.hasSegment(segmentId)) {
			if (this.settings.unknownSegment === 'error') return { status: 404, body: { msg: 'Segmento não encontrado' } };
			return { status: 200, body: { data: project({ total: 0, leads: [] }, selection) } };
		}
		const page = Math.max(0, toInt(options.page, 0));
		let limit = toInt(options.limit, DEFAULT_PAGE_LIMIT);
		if (limit < 1) limit = DEFAULT_PAGE_LIMIT;
		limit = Math.min(limit, this.settings.maxSegmentLimit);
		const descending = String(options.orderByDirection ?? 'asc').toLowerCase() === 'desc';
		const ordered = this.account.orderedMembers(segmentId, { showArchived: options.showArchived === true, showAnon: options.showAnon === true });
		const ids: number[] = [];
		for (let position = page * limit; position < Math.min(ordered.length, (page + 1) * limit); position++) {
			ids.push(descending ? ordered[ordered.length - 1 - position] : ordered[position]);
		}
		const leadSelection = selection.get('leads');
		const data: Record<string, unknown> = { total: ordered.length };
		const full = allFields && this.settings.listFullRecords.allFields === 'honoured';
		if (selection.has('leads')) data.leads = ids.map((id) => (full ? this.fullListLead(id) : this.listLead(id, leadSelection ?? null)));
		return { status: 200, body: { data: project(data, selection) } };
	}

	private listLead(id: number, selection: Selection | null): LeadRecord {
		if (selection && [...selection.keys()].every((name) => CHEAP_FIELDS.has(name))) {
			const times = this.account.times(id);
			return { id, createDate: new Date(times.createMs).toISOString(), updatedDate: new Date(times.updatedMs).toISOString(), archived: times.archived };
		}
		return this.account.listRecord(id) ?? { id };
	}

	/** A list lead when the server honours allFields: the detail record, less the fields it omits. */
	private fullListLead(id: number): LeadRecord {
		const detail = this.account.detail(id);
		if (!detail) return { id };
		const lead: LeadRecord = { ...detail, fullname: `${String(detail.firstname ?? '')} ${String(detail.lastname ?? '')}`.trim() };
		const { omits, omitFor } = this.settings.listFullRecords;
		if (omits && (!omitFor || omitFor.includes(id))) for (const field of omits) delete lead[field];
		return lead;
	}

	private leadDetail(rawId: string, url: URL): Reply {
		if (!/^\d+$/.test(rawId)) return { status: 400, body: { msg: 'Lead inválido' } };
		const lead = this.account.detail(Number(rawId));
		if (!lead) return { status: 404, body: { msg: 'Lead não encontrado' } };
		if (url.searchParams.get('allFields') === '1') return { status: 200, body: { data: { lead } } };
		const short: LeadRecord = {};
		for (const field of SHORT_DETAIL_FIELDS) short[field] = lead[field];
		return { status: 200, body: { data: { lead: short } } };
	}

	segmentRecords(): LeadRecord[] {
		return this.account
			.segmentIds()
			.sort((left, right) => left - right)
			.map((segmentId) => {
				const definition = this.account.segmentDefinition(segmentId)!;
				const lastUpdate = this.account.lastLeadUpdateMs(segmentId);
				return {
					id: segmentId,
					name: definition.name,
					alias: definition.alias ?? definition.name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, ''),
					isPublished: definition.isPublished ?? true,
					createDate: new Date(this.account.segmentCreateMs(segmentId)).toISOString(),
					category: definition.category === undefined ? { id: 1, title: 'Geral' } : definition.category,
					totalLeads: this.account.orderedMembers(segmentId).length,
					lastLeadUpdate: lastUpdate === null ? null : new Date(lastUpdate).toISOString(),
				};
			});
	}

	private segmentList(url: URL): Reply {
		let segments: unknown[] = this.segmentRecords();
		const limitParam = url.searchParams.get('limit');
		if (limitParam !== null) {
			const limit = Math.max(1, toInt(limitParam, DEFAULT_PAGE_LIMIT));
			const page = Math.max(0, toInt(url.searchParams.get('page'), 0));
			segments = segments.slice(page * limit, (page + 1) * limit);
		}
		const queryText = url.searchParams.get('query');
		if (queryText !== null && queryText.trim() !== '') {
			const selection = parseSelection(queryText);
			const inner = selection.has('segments') ? (selection.get('segments') ?? null) : selection;
			segments = segments.map((segment) => project(segment, inner));
		}
		return { status: 200, body: this.settings.segmentsShape === 'array' ? segments : { data: { segments } } };
	}

	private allLeads(url: URL): Reply {
		const all = this.account.allLeadIds();
		const page = Math.max(0, toInt(url.searchParams.get('page'), 0));
		let limit = toInt(url.searchParams.get('limit'), DEFAULT_PAGE_LIMIT);
		if (limit < 1) limit = DEFAULT_PAGE_LIMIT;
		limit = Math.min(limit, this.settings.maxLeadsLimit);
		const full = url.searchParams.get('allFields') === '1';
		const listSelection = parseSelection(DEFAULT_LIST_SELECTION).get('leads') ?? null;
		const leads: unknown[] = [];
		for (let position = page * limit; position < Math.min(all.length, (page + 1) * limit); position++) {
			const id = all[position];
			leads.push(full ? this.account.detail(id) : project(this.account.listRecord(id), listSelection));
		}
		return { status: 200, body: { data: { leads, total: all.length } } };
	}
}
