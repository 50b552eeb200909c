/**
 * SprintHub simulator: a faithful HTTP server on 127.0.0.1 implementing /work/shared/sprinthub-api.md. Every
 * other test compares the database with it, so what follows is a contract.
 *
 *   const sim = await startSimulator({ seed: 1, segments: [{ id: 101, name: 'Hot', size: 20000 }] });
 *   sim.baseUrl; sim.instance; sim.token;
 *   sim.truth.segmentMemberIds(101);   // ids the segment endpoint lists by default, in its asc order
 *   sim.truth.lead(id);                // the record GET /leads/{id}?allFields=1 returns, undefined when 404
 *   sim.faults.add({ kind: 'status', status: 503, endpoint: 'segmentLeads', nth: 2 });
 *   sim.mutate.join(101, 5); sim.mutate.leave(101, 3); sim.mutate.change({ segmentId: 101, count: 4 }); sim.mutate.remove([id]);
 *   sim.schedule({ atRequest: 3 }, () => sim.mutate.leave(101, 10));
 *   sim.requests; sim.counters; sim.resetLog(); sim.setRateLimit({ requests: 20, windowMs: 1000, mode: '429' });
 *   startSimulator({ clock });         // a ManualClock: rate window, latency and delays move only with clock.advance(ms)
 *   await sim.close();                 // destroys open sockets and timers: nothing is left running
 *
 * Wire behaviour (all answers are JSON with `content-type: application/json` unless a fault says otherwise):
 * - Checks, in order: missing/empty `i` → 400 `{"msg":"Cliente não definido"}`; `i` not the instance → 401
 *   `{"msg":"Cliente não encontrado"}`; rate limit (below); no token → 401 `{"msg":"Token não informado"}`; a
 *   wrong token → 401 `{"msg":"Token inválido"}`. The token is read from the query `apitoken`, the header
 *   `apitoken` and `Authorization: Bearer`; when several are sent, all must be right.
 * - Rate limit: sliding window over the calls it accepted (default 100 per 60,000 ms, per instance; calls with
 *   a bad token count, throttled calls do not). A throttled call gets 401 `{"msg":"too many requests"}`
 *   (mode '401', the default) or 429 `{"msg":"Too Many Requests"}` with `Retry-After` in whole seconds
 *   (mode '429'). Throttled calls are logged with `throttled: true`.
 * - POST /leadsfromtype/segment/{id}: body as in the API doc. `page` 0-based, `limit` default 100, capped
 *   silently at maxSegmentLimit (default 1000); values may be digit strings. Order: createDate then id,
 *   `orderByDirection: 'desc'` reverses both (other keys are treated as createDate). `showArchived`/`showAnon`
 *   must be `true` to include archived / anonymous leads (anonymous = no name, e-mail or phones). `query`
 *   projects `data` and each lead (nested `owner{completName}` works; unknown names are omitted; a malformed
 *   query → 400 `{"msg":"Query inválida: …"}`). Without `query` the answer is `{total, leads}` with leads of
 *   id, fullname, email, photoUrl, points, city, state, country, lastActive, archived, owner{completName},
 *   companyData{companyname}, createDate, updatedDate. `search`, `additionalFilter` and `idOnly` are ignored.
 *   `allFields=1` in the URL is ignored by default; listFullRecords / setListFullRecords make the server
 *   honour it (each lead in detail form plus fullname, the projection still picking) or honour it with
 *   some fields left out (for every lead or for given leads).
 *   A page past the end is `{"data":{"total":N,"leads":[]}}`. A body that is not JSON → 400. Unknown
 *   segment: 404 `{"msg":"Segmento não encontrado"}` (unknownSegment 'error', default) or 200 with
 *   total 0 and no leads ('empty').
 * - GET /leads/{id}?allFields=1 → `{"data":{"lead":{…}}}` with every field (owner is a user id, no fullname);
 *   without allFields=1 only the system basics (id, names, contacts, owner, stage, points, archived, dates).
 *   A lead that never existed or was deleted → 404 `{"msg":"Lead não encontrado"}`; a non-numeric id → 400.
 * - GET /segments → every segment `{id,name,alias,isPublished,createDate,category{id,title},totalLeads,
 *   lastLeadUpdate}` ordered by id; totalLeads is what the segment endpoint's default `total` says (archived
 *   and anonymous leads excluded). Optional `query` (`{segments{id,name}}`) projects; `limit` (and 0-based
 *   `page`) slice. Shape: a bare array ('array', default) or `{"data":{"segments":[…]}}` ('wrapped').
 * - GET /leads?page=P&limit=L[&allFields=1] → `{"data":{"leads":[…],"total":N}}`, every lead of the account
 *   by ascending id, page 0-based, limit default 100 capped at maxLeadsLimit (default 200); list form (as the
 *   default segment list) or, with allFields=1, detail form.
 * - Lead data: derived from (seed, id) on demand; only mutated leads are stored. Types are loose on purpose
 *   (see leads.ts): digit strings, '' and null, invalid dates in lastActive and custom date fields, owner as
 *   {completName} in lists and a number in details, createdBy number / digit string / short text,
 *   createdByUtm array or object, nested objects, arrays, and 16 to 23 account-specific snake_case custom
 *   fields. createDate and updatedDate are always valid ISO strings with milliseconds, updatedDate ≥
 *   createDate. For about 5% of leads (divergentShare) the detail has null in one field the list fills in
 *   and the list has null in another the detail fills in (see DIVERGENT_FIELDS).
 */
import { randomUUID } from 'node:crypto';
import { AccountState, ChangeTarget, LeadSelection, SegmentDefinition, Visibility } from './account';
import { FaultHandle, FaultInjector, FaultRule } from './faults';
import { LeadRecord } from './leads';
import { hash32 } from './random';
import { ListFullRecords, RateLimit, RequestCounters, RequestLogEntry, SegmentsShape, ServerSettings, SimulatorClock, SimulatorServer, UnknownSegmentForm } from './server';

export type { SegmentDefinition, Visibility, LeadSelection, ChangeTarget } from './account';
export type { Endpoint, FaultKind, FaultRule, FaultHandle } from './faults';
export type { LeadRecord, CustomFieldDefinition } from './leads';
export type { ListFullRecords, RateLimit, RequestCounters, RequestLogEntry, SegmentsShape, SimulatorClock, ThrottleMode, UnknownSegmentForm } from './server';
export { DIVERGENT_FIELDS } from './leads';

export interface SimulatorOptions {
	/** Everything generated (leads, memberships, custom fields, mutation choices) follows from it. Default 1. */
	seed?: number;
	instance?: string;
	/** Default: a UUID derived from the seed. */
	token?: string;
	/** Default: one segment, 101 "Hot leads", 250 leads. */
	segments?: SegmentDefinition[];
	/** Leads in no segment at start (default a tenth of all segment sizes, at least 50). */
	extraLeads?: number;
	archivedShare?: number;
	anonShare?: number;
	divergentShare?: number;
	maxSegmentLimit?: number;
	maxLeadsLimit?: number;
	/** null disables throttling. */
	rateLimit?: RateLimit | null;
	latencyMs?: number;
	segmentsShape?: SegmentsShape;
	unknownSegment?: UnknownSegmentForm;
	/**
	 * What the rate window, latency, delay faults, `schedule({ afterMs })` and the log's times run on.
	 * Default: the wall clock. A ManualClock (engine/sprinthub/clock.ts) lets a test move time instead of
	 * sleeping: a delayed answer is held until the test advances the clock. Lead data dates ignore it.
	 */
	clock?: SimulatorClock;
	/** Keep at most this many request log entries (counters still count everything). Default unlimited. */
	logLimit?: number;
	/** How the segment list answers allFields=1 (default: ignored, as without it). */
	listFullRecords?: ListFullRecords;
	port?: number;
	host?: string;
}

export interface SimulatorTruth {
	/** Member ids as the segment endpoint lists them with these flags (default: neither), createDate/id ascending. */
	segmentMemberIds(segmentId: number, visibility?: Visibility): number[];
	/** Every member, archived and anonymous included, in the same order. */
	allSegmentMemberIds(segmentId: number): number[];
	/** The record as GET /leads/{id}?allFields=1 returns it; undefined when that answers 404. */
	lead(id: number): LeadRecord | undefined;
	/** The record as segment lists show it before projection (owner as {completName}, fullname). */
	listLead(id: number): LeadRecord | undefined;
	/** Every existing lead id of the account, ascending (GET /leads order). */
	allLeadIds(): number[];
	/** The segments as GET /segments returns them (before shape and projection). */
	segments(): LeadRecord[];
	/** Account-specific custom field aliases. */
	customFieldAliases(): string[];
}

export interface SimulatorMutations {
	/** Existing visible leads not yet in the segment join (or new leads with newLeads, or when none is left). */
	join(segmentId: number, selection: LeadSelection, options?: { newLeads?: boolean }): number[];
	leave(segmentId: number, selection: LeadSelection): number[];
	/** updatedDate moves forward and fields change (the given ones, else a seeded choice). */
	change(target: ChangeTarget, fields?: LeadRecord): number[];
	/** Deleted: detail 404, gone from every segment and from GET /leads. */
	remove(target: ChangeTarget): number[];
	addSegment(definition: SegmentDefinition): void;
}

export interface Simulator {
	readonly baseUrl: string;
	readonly instance: string;
	readonly token: string;
	readonly port: number;
	readonly seed: number;
	readonly truth: SimulatorTruth;
	readonly faults: { add(rule: FaultRule): FaultHandle; clear(): void };
	readonly mutate: SimulatorMutations;
	/** Runs `action` before the atRequest-th request from now (1 = the next) or after afterMs; returns a cancel. */
	schedule(when: { atRequest?: number; afterMs?: number }, action: () => void): () => void;
	/** The request log, oldest first (a live array; copy it to keep a snapshot). */
	readonly requests: RequestLogEntry[];
	readonly counters: RequestCounters;
	resetLog(): void;
	/** Changes the limit and forgets the calls already counted. */
	setRateLimit(rateLimit: RateLimit | null): void;
	setLatency(ms: number): void;
	setSegmentsShape(shape: SegmentsShape): void;
	setUnknownSegment(form: UnknownSegmentForm): void;
	setMaxLimits(limits: { segment?: number; leads?: number }): void;
	/** How the segment list answers allFields=1 (default: ignored). */
	setListFullRecords(behaviour: ListFullRecords): void;
	close(): Promise<void>;
}

/** A deterministic UUID-like token for a seed, so a standalone simulator prints the same one every time. */
export function tokenForSeed(seed: number): string {
	const hex = [0, 1, 2, 3].map((part) => hash32(seed, part, 0x70c).toString(16).padStart(8, '0')).join('');
	return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
	const seed = options.seed ?? 1;
	const account = new AccountState({
		seed,
		segments: options.segments ?? [{ id: 101, name: 'Hot leads', size: 250 }],
		extraLeads: options.extraLeads,
		archivedShare: options.archivedShare,
		anonShare: options.anonShare,
		divergentShare: options.divergentShare,
	});
	const faults = new FaultInjector(seed);
	const settings: ServerSettings = {
		instance: options.instance ?? 'acme',
		token: options.token ?? (options.seed === undefined ? randomUUID() : tokenForSeed(seed)),
		maxSegmentLimit: options.maxSegmentLimit ?? 1000,
		maxLeadsLimit: options.maxLeadsLimit ?? 200,
		rateLimit: options.rateLimit === undefined ? { requests: 100, windowMs: 60_000, mode: '401' } : options.rateLimit,
		latencyMs: options.latencyMs ?? 0,
		segmentsShape: options.segmentsShape ?? 'array',
		unknownSegment: options.unknownSegment ?? 'error',
		logLimit: options.logLimit ?? Number.POSITIVE_INFINITY,
		listFullRecords: options.listFullRecords ?? { allFields: 'ignored' },
	};
	const server = new SimulatorServer(account, faults, settings, options.clock);
	const host = options.host ?? '127.0.0.1';
	const port = await server.listen(options.port ?? 0, host);

	const truth: SimulatorTruth = {
		segmentMemberIds: (segmentId, visibility) => Array.from(account.orderedMembers(segmentId, visibility)),
		allSegmentMemberIds: (segmentId) => Array.from(account.orderedMembers(segmentId, { showArchived: true, showAnon: true })),
		lead: (id) => account.detail(id),
		listLead: (id) => account.listRecord(id),
		allLeadIds: () => Array.from(account.allLeadIds()),
		segments: () => server.segmentRecords(),
		customFieldAliases: () => account.profile.customFields.map((field) => field.alias),
	};
	const mutate: SimulatorMutations = {
		join: (segmentId, selection, joinOptions) => account.join(segmentId, selection, joinOptions),
		leave: (segmentId, selection) => account.leave(segmentId, selection),
		change: (target, fields) => account.change(target, fields),
		remove: (target) => account.remove(target),
		addSegment: (definition) => account.addSegment(definition),
	};

	return {
		baseUrl: `http://${host}:${port}`,
		instance: settings.instance,
		token: settings.token,
		port,
		seed,
		truth,
		faults: { add: (rule) => faults.add(rule), clear: () => faults.clear() },
		mutate,
		schedule(when, action) {
			const cancels: (() => void)[] = [];
			let done = false;
			// Whichever trigger comes first runs the action, once.
			const once = (): void => {
				if (done) return;
				done = true;
				for (const cancel of cancels) cancel();
				action();
			};
			if (when.atRequest !== undefined) cancels.push(server.onRequest(when.atRequest, once));
			if (when.afterMs !== undefined) cancels.push(server.after(when.afterMs, once));
			if (when.atRequest === undefined && when.afterMs === undefined) once();
			return () => {
				done = true;
				for (const cancel of cancels) cancel();
			};
		},
		get requests() {
			return server.log;
		},
		get counters() {
			return server.counters;
		},
		resetLog: () => server.resetLog(),
		setRateLimit(rateLimit) {
			settings.rateLimit = rateLimit ? { mode: '401', ...rateLimit } : null;
			server.resetThrottle();
		},
		setLatency(ms) {
			settings.latencyMs = ms;
		},
		setSegmentsShape(shape) {
			settings.segmentsShape = shape;
		},
		setUnknownSegment(form) {
			settings.unknownSegment = form;
		},
		setListFullRecords(behaviour) {
			settings.listFullRecords = behaviour;
		},
		setMaxLimits(limits) {
			if (limits.segment !== undefined) settings.maxSegmentLimit = limits.segment;
			if (limits.leads !== undefined) settings.maxLeadsLimit = limits.leads;
		},
		close: () => server.close(),
	};
}
