/**
 * The SprintHub client: every call goes through the account's rate budget and keep-alive pool, has
 * real timeouts and an AbortSignal, is classified (configuration / throttled / transient / data) and
 * retried when that makes sense. The token never appears in an error, an event or a returned object.
 */
import { SyncError, cancelledError, isSyncError } from '../errors';
import { redactSecrets } from '../redaction';
import { accountKey, accountPool, normalizeBaseUrl, normalizeInstance, normalizeToken, type NormalizedBaseUrl } from './account';
import { type Clock, systemClock } from './clock';
import type { AccountBudget } from './accountBudget';
import type { BudgetAccount } from './budgetStore';
import { type BudgetTicket, type RateBudgetStats, rateBudgets } from './rateBudget';
import { type RequestSpec, SprintHubRequester } from './requester';
import {
	type CallContext,
	type RawResponse,
	classifyResponse,
	parseLeadDetail,
	parseLeadPage,
	parseSegments,
} from './responses';
import type {
	LeadPage,
	ListSegmentsParams,
	PingFailureReason,
	PingResult,
	SegmentPageParams,
	SprintHubClientOptions,
	SprintHubClientStats,
	SprintHubEvent,
	SprintHubLead,
	SprintHubSegment,
} from './types';

const DEFAULT_SEGMENT_QUERY = '{total,leads{id,fullname,email,lastActive,createDate,updatedDate}}';

/** Waits for the budget shorter than this are ordinary spacing and raise no event. */
const WAIT_EVENT_THRESHOLD_MS = 1_000;

export class SprintHubClient {
	readonly baseUrl: NormalizedBaseUrl;
	readonly instance: string;
	/** The account this client belongs to (base URL + instance); budgets and pools are shared by key. */
	readonly accountKey: string;
	readonly budget: AccountBudget;

	// ES private field: invisible to util.inspect, JSON.stringify and n8n's execution records.
	readonly #secrets: readonly string[];
	private readonly requester: SprintHubRequester;
	private readonly clock: Clock;
	private readonly random: () => number;
	private readonly onEvent?: (event: SprintHubEvent) => void;
	private readonly settings: {
		maxAttempts: number;
		retryBaseDelayMs: number;
		retryMaxDelayMs: number;
		patienceMs?: number;
	};
	/** A client serves one run: its patience with throttling starts no earlier than the client. */
	private readonly createdAt: number;
	private readonly counters: SprintHubClientStats = {
		requests: 0,
		throttled: 0,
		retries: 0,
		backoffMs: 0,
		waitMs: 0,
		failures: { configuration: 0, throttled: 0, transient: 0, data: 0, system: 0, cancelled: 0 },
	};

	constructor(options: SprintHubClientOptions) {
		// The token first, so that no validation message below can ever include it.
		const token = normalizeToken(options.token);
		this.#secrets = [token];
		try {
			this.baseUrl = normalizeBaseUrl(options.baseUrl);
			this.instance = normalizeInstance(options.instance);
		} catch (error) {
			throw isSyncError(error) ? redactError(error, this.#secrets) : error;
		}
		this.accountKey = accountKey(this.baseUrl.display, this.instance);
		this.clock = options.clock ?? systemClock;
		this.createdAt = this.clock.now();
		this.random = options.random ?? Math.random;
		this.onEvent = options.onEvent;
		this.budget =
			options.budget ??
			rateBudgets.get(this.accountKey, { ...options.budgetOptions, requestsPerMinute: options.requestsPerMinute, clock: this.clock });
		const pool = accountPool(this.accountKey, this.baseUrl.origin, {
			connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
			keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? 30_000,
			connections: options.connections ?? 8,
		});
		this.requester = new SprintHubRequester({ baseUrl: this.baseUrl, instance: this.instance, authMode: options.authMode ?? 'query+header', pool }, token, {
			headersTimeoutMs: options.headersTimeoutMs ?? 30_000,
			bodyTimeoutMs: options.bodyTimeoutMs ?? 60_000,
			requestTimeoutMs: options.requestTimeoutMs ?? 120_000,
			maxResponseBytes: options.maxResponseBytes ?? 64 * 1024 * 1024,
			userAgent: options.userAgent ?? 'n8n-nodes-sprinthub-sync',
		});
		this.settings = {
			maxAttempts: Math.max(1, Math.floor(options.maxAttempts ?? 6)),
			retryBaseDelayMs: options.retryBaseDelayMs ?? 500,
			retryMaxDelayMs: options.retryMaxDelayMs ?? 30_000,
			patienceMs: options.patienceMs,
		};
	}

	/** One page of a segment's leads. `page` starts at 0. */
	async segmentPage(segmentId: number | string, params: SegmentPageParams, signal?: AbortSignal): Promise<LeadPage> {
		const id = checkId(segmentId, 'segment', this.#secrets);
		checkPaging(params.page, params.limit);
		const body = {
			page: params.page,
			limit: params.limit,
			orderByKey: params.orderByKey ?? 'createDate',
			orderByDirection: params.orderByDirection ?? 'asc',
			showAnon: params.showAnon ?? false,
			showArchived: params.showArchived ?? false,
			search: params.search ?? '',
			query: params.query ?? DEFAULT_SEGMENT_QUERY,
			additionalFilter: params.additionalFilter ?? null,
			idOnly: params.idOnly ?? false,
		};
		return this.call(
			{ endpoint: 'segmentPage', method: 'POST', path: `/leadsfromtype/segment/${id}`, query: { allFields: params.allFields ? 1 : undefined }, body, subject: `segment ${id}, page ${params.page}` },
			(json, ctx) => parseLeadPage(json, ctx),
			signal,
		);
	}

	/** Every field of one lead; null when the lead no longer exists (404 or `lead: null`). */
	async leadDetail(leadId: number | string, signal?: AbortSignal): Promise<SprintHubLead | null> {
		const id = checkId(leadId, 'lead', this.#secrets);
		return this.call(
			{ endpoint: 'leadDetail', method: 'GET', path: `/leads/${id}`, query: { allFields: 1 }, subject: `lead ${id}` },
			(json, ctx) => (json === VANISHED ? null : parseLeadDetail(json, ctx, id)),
			signal,
		);
	}

	/** The account's segments; accepts a bare array and `{data:{segments}}`. */
	async listSegments(params: ListSegmentsParams = {}, signal?: AbortSignal): Promise<SprintHubSegment[]> {
		if (params.page !== undefined || params.limit !== undefined) checkPaging(params.page ?? 0, params.limit ?? 1);
		return this.call(
			{
				endpoint: 'segments',
				method: 'GET',
				path: '/segments',
				query: { page: params.page, limit: params.limit, search: params.search || undefined, query: params.query },
				subject: 'segment list',
			},
			(json, ctx) => parseSegments(json, ctx),
			signal,
		);
	}

	/**
	 * Looks a segment up by id, paging through the segment list (bounded); null when it is not there.
	 * Servers that ignore paging and return every segment at once are handled too.
	 */
	async findSegment(segmentId: number | string, signal?: AbortSignal, pageSize = 100): Promise<SprintHubSegment | null> {
		const id = checkId(segmentId, 'segment', this.#secrets);
		let previousFirst: number | undefined;
		for (let page = 0; page < 200; page++) {
			const segments = await this.listSegments({ page, limit: pageSize }, signal);
			const found = segments.find((segment) => segment.id === id);
			if (found) return found;
			// An empty page ends the list; a page that repeats means the server ignores paging.
			if (segments.length === 0 || segments[0].id === previousFirst) return null;
			previousFirst = segments[0].id;
		}
		return null;
	}

	/** One page of all the account's leads (`GET /leads`). `page` starts at 0. */
	async leadsPage(page: number, limit: number, allFields = false, signal?: AbortSignal): Promise<LeadPage> {
		checkPaging(page, limit);
		return this.call(
			{ endpoint: 'leads', method: 'GET', path: '/leads', query: { page, limit, allFields: allFields ? 1 : undefined }, subject: `leads page ${page}` },
			(json, ctx) => parseLeadPage(json, ctx),
			signal,
		);
	}

	/**
	 * A cheap credential check (one call, no retries): tells apart a wrong token, a wrong instance,
	 * throttling and an unreachable host. Never throws, except when cancelled.
	 */
	async ping(signal?: AbortSignal): Promise<PingResult> {
		const spec: RequestSpec = { endpoint: 'segments', method: 'GET', path: '/segments', query: { page: 0, limit: 1 }, subject: 'credential check' };
		let ticket: BudgetTicket;
		try {
			ticket = await this.budget.acquire(signal, { patienceMs: 0 });
		} catch (error) {
			const syncError = error as SyncError;
			if (syncError.errorClass === 'cancelled') throw syncError;
			return pingFailure('throttled', syncError);
		}
		this.counters.requests++;
		const started = this.clock.now();
		const outcome = await this.attempt(spec, (json, ctx) => parseSegments(json, ctx), signal);
		if ('value' in outcome) {
			this.budget.reportSuccess(ticket);
			return { ok: true, latencyMs: this.clock.now() - started, httpStatus: 200 };
		}
		const error = outcome.error;
		this.counters.failures[error.errorClass]++;
		if (error.errorClass === 'cancelled') {
			this.budget.reportFailure(ticket);
			throw error;
		}
		if (error.errorClass === 'throttled') {
			this.counters.throttled++;
			this.budget.reportThrottle(ticket, error.retryAfterMs);
			return pingFailure('throttled', error);
		}
		this.budget.reportFailure(ticket);
		const byCode: Record<string, PingFailureReason> = {
			invalid_token: 'invalid_token',
			unknown_instance: 'unknown_instance',
			forbidden: 'forbidden',
			not_found: 'not_found',
			unreachable: 'unreachable',
			timeout: 'timeout',
		};
		return pingFailure(byCode[error.code ?? ''] ?? 'unexpected', error);
	}

	/** This client's counters (a client is cheap: make one per run to count per run). */
	stats(): SprintHubClientStats {
		return { ...this.counters, failures: { ...this.counters.failures } };
	}

	/** The shared account budget's counters. */
	budgetStats(): RateBudgetStats {
		return this.budget.stats();
	}

	/** The account this client calls (never the token): what per-account records are keyed by. */
	account(): BudgetAccount {
		return { key: this.accountKey, baseUrl: this.baseUrl.display, instance: this.instance };
	}

	/** The base URL without token, for logs. */
	describe(): string {
		return `${this.baseUrl.display} (instance ${this.instance})`;
	}

	private emit(event: SprintHubEvent): void {
		if (!this.onEvent) return;
		try {
			this.onEvent(event);
		} catch {
			// A progress hook must never break a sync.
		}
	}

	/** Budget, send, classify, retry. */
	private async call<T>(spec: RequestSpec, interpret: (json: unknown, ctx: CallContext) => T, signal?: AbortSignal): Promise<T> {
		let transientFailures = 0;
		let attempt = 0;
		let afterThrottle = false;
		for (;;) {
			attempt++;
			if (signal?.aborted) throw cancelledError(`SprintHub ${spec.method} ${spec.path}`);
			const ticket = await this.budget.acquire(signal, { patienceMs: this.settings.patienceMs, patienceFrom: this.createdAt });
			this.counters.waitMs += ticket.waitedMs;
			if (afterThrottle) this.counters.backoffMs += ticket.waitedMs;
			if (ticket.waitedMs >= WAIT_EVENT_THRESHOLD_MS) this.emit({ type: 'wait', method: spec.method, path: spec.path, waitMs: ticket.waitedMs });
			this.counters.requests++;
			const started = this.clock.now();
			const outcome = await this.attempt(spec, interpret, signal);
			if ('value' in outcome) {
				this.budget.reportSuccess(ticket);
				this.emit({ type: 'request', method: spec.method, path: spec.path, httpStatus: outcome.status, durationMs: this.clock.now() - started, attempt });
				return outcome.value;
			}
			const error = outcome.error;
			this.counters.failures[error.errorClass]++;
			if (error.errorClass === 'throttled') {
				this.counters.throttled++;
				const waitMs = this.budget.reportThrottle(ticket, error.retryAfterMs);
				this.emit({
					type: 'throttled',
					method: spec.method,
					path: spec.path,
					httpStatus: error.httpStatus ?? 0,
					waitMs,
					retryAfterMs: error.retryAfterMs,
					requestsPerMinute: this.budget.currentRequestsPerMinute,
				});
				this.counters.retries++;
				this.emit({ type: 'retry', method: spec.method, path: spec.path, attempt: attempt + 1, errorClass: 'throttled', code: error.code, delayMs: 0, message: error.message });
				afterThrottle = true;
				continue; // the budget holds everyone back; patience bounds how long
			}
			this.budget.reportFailure(ticket);
			afterThrottle = false;
			if (error.errorClass !== 'transient') throw error;
			transientFailures++;
			if (transientFailures >= this.settings.maxAttempts) {
				throw new SyncError({
					errorClass: 'transient',
					code: error.code,
					httpStatus: error.httpStatus,
					attempts: transientFailures,
					secrets: this.#secrets,
					message: `${error.message} Gave up after ${transientFailures} attempt${transientFailures === 1 ? '' : 's'}.`,
					hint: error.hint,
				});
			}
			const ceiling = Math.min(this.settings.retryMaxDelayMs, this.settings.retryBaseDelayMs * 2 ** (transientFailures - 1));
			const delayMs = Math.round(this.random() * ceiling);
			this.counters.retries++;
			this.emit({ type: 'retry', method: spec.method, path: spec.path, attempt: attempt + 1, errorClass: 'transient', code: error.code, delayMs, message: error.message });
			this.counters.backoffMs += delayMs;
			await this.clock.sleep(delayMs, signal);
		}
	}

	/** One HTTP exchange, classified. Never throws. */
	private async attempt<T>(
		spec: RequestSpec,
		interpret: (json: unknown, ctx: CallContext) => T,
		signal?: AbortSignal,
	): Promise<{ value: T; status: number } | { error: SyncError }> {
		const ctx: CallContext = { endpoint: spec.endpoint, method: spec.method, path: spec.path, subject: spec.subject, secrets: this.#secrets, now: this.clock.now() };
		let response: RawResponse;
		try {
			response = await this.requester.send(spec, signal);
		} catch (error) {
			return { error: this.requester.networkError(error, spec, signal) };
		}
		ctx.now = this.clock.now();
		try {
			const classified = classifyResponse(response, ctx);
			if ('error' in classified) return { error: classified.error };
			const json = 'vanished' in classified ? VANISHED : classified.json;
			return { value: interpret(json, ctx), status: response.status };
		} catch (error) {
			if (isSyncError(error)) return { error: error };
			return {
				error: new SyncError({
					errorClass: 'system',
					code: 'interpret_failed',
					secrets: this.#secrets,
					cause: error,
					message: `Reading the answer of SprintHub ${spec.method} ${spec.path} failed: ${error instanceof Error ? error.message : String(error)}`,
				}),
			};
		}
	}
}

/** Marks a 404 detail so the interpreter returns null. */
const VANISHED: unique symbol = Symbol('vanished');

function checkId(value: number | string, what: 'segment' | 'lead', secrets: readonly string[]): number {
	const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
	if (/^\d{1,15}$/.test(text) && Number(text) > 0) return Number(text);
	throw new SyncError({
		errorClass: what === 'segment' ? 'configuration' : 'data',
		code: `invalid_${what}_id`,
		secrets,
		message: `"${redactSecrets(String(value).slice(0, 60), secrets)}" is not a valid SprintHub ${what} id (a positive integer).`,
		hint: what === 'segment' ? 'Use the numeric id of the segment as SprintHub shows it, e.g. 42.' : 'The lead was quarantined; the run went on.',
	});
}

function checkPaging(page: number, limit: number): void {
	if (!Number.isSafeInteger(page) || page < 0) throw new RangeError(`page must be a non-negative integer, got ${page}`);
	if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
}

function redactError(error: SyncError, secrets: readonly string[]): SyncError {
	return new SyncError({ ...error.toJSON(), message: error.message, secrets });
}

function pingFailure(reason: PingFailureReason, error: SyncError): PingResult {
	return { ok: false, reason, message: error.message, hint: error.hint, httpStatus: error.httpStatus, error };
}
