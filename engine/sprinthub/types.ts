/** Public types of the SprintHub client. */
import type { SyncError, SyncErrorClass } from '../errors';
import type { Clock } from './clock';
import type { AccountBudget } from './accountBudget';
import type { RateBudgetOptions, RateBudgetStats } from './rateBudget';

/**
 * How the token travels. Production callers send the query parameter and the header together;
 * SprintHub also accepts `Authorization: Bearer`.
 */
export type SprintHubAuthMode = 'query+header' | 'query' | 'header' | 'bearer';

export interface SprintHubClientOptions {
	/** With or without scheme, trailing slashes ignored; e.g. `sprinthub-api-master.sprinthub.app`. */
	baseUrl: string;
	/** The account's subdomain, sent as `i=`. */
	instance: string;
	token: string;
	/** Default 'query+header'. */
	authMode?: SprintHubAuthMode;

	/** The account budget's configured rate. Default 80 per minute. */
	requestsPerMinute?: number;
	/** Other budget settings, used when this client creates the account's budget. */
	budgetOptions?: Omit<RateBudgetOptions, 'clock' | 'random' | 'requestsPerMinute'>;
	/** Use this budget instead of the process registry's one for the account (the shared budget, tests). */
	budget?: AccountBudget;
	/** How long this client's calls tolerate throttling before rejecting with patienceExhausted. */
	patienceMs?: number;

	/** TCP+TLS connect timeout. Default 10 s. */
	connectTimeoutMs?: number;
	/** Time to the response headers. Default 30 s. */
	headersTimeoutMs?: number;
	/** Longest silence between body chunks. Default 60 s. */
	bodyTimeoutMs?: number;
	/** Whole call, from sending to the last body byte. Default 120 s. */
	requestTimeoutMs?: number;
	/** Idle keep-alive sockets are closed after this. Default 30 s. */
	keepAliveTimeoutMs?: number;
	/** Sockets per account. Default 8. */
	connections?: number;
	/** Larger bodies are refused (transient error). Default 64 MiB. */
	maxResponseBytes?: number;

	/** Attempts per call for transient failures (throttles do not count; patience bounds them). Default 6. */
	maxAttempts?: number;
	/** Full-jitter exponential backoff: random(0, min(max, base * 2^(n-1))). Defaults 500 ms and 30 s. */
	retryBaseDelayMs?: number;
	retryMaxDelayMs?: number;

	clock?: Clock;
	random?: () => number;
	onEvent?: (event: SprintHubEvent) => void;
	userAgent?: string;
}

/** Body of `POST /leadsfromtype/segment/{id}`; every field but page and limit has a default. */
export interface SegmentPageParams {
	/** Starts at 0. */
	page: number;
	limit: number;
	/** GraphQL-like projection. Default `{total,leads{id,fullname,email,lastActive,createDate,updatedDate}}`. */
	query?: string;
	/** Sends `allFields=1`: asks the list for whole records (some servers honour it, some ignore it). */
	allFields?: boolean;
	/** Default 'createDate'. */
	orderByKey?: string;
	/** Default 'asc'. */
	orderByDirection?: 'asc' | 'desc';
	/** Default false. */
	showAnon?: boolean;
	/** Default false. */
	showArchived?: boolean;
	/** Default ''. */
	search?: string;
	/** Default null. */
	additionalFilter?: unknown;
	/** Default false. */
	idOnly?: boolean;
}

/** A lead as SprintHub sent it, with `id` checked and normalized to a positive integer. */
export type SprintHubLead = Record<string, unknown> & { id: number };

/** A record in a page that cannot be used (kept for quarantine, never dropped silently). */
export interface InvalidLeadRecord {
	/** Position in the page. */
	index: number;
	/** The record as received (may be anything). */
	raw: unknown;
	/** A `data` SyncError saying what is wrong. */
	error: SyncError;
}

export interface LeadPage {
	/** The total the server announced. */
	total: number;
	leads: SprintHubLead[];
	invalid: InvalidLeadRecord[];
	/** How many records the page held (leads + invalid). */
	received: number;
}

export interface ListSegmentsParams {
	/** Sent as `page` when given. */
	page?: number;
	/** Sent as `limit` when given. */
	limit?: number;
	/** Sent as `search` when given. */
	search?: string;
	/** A projection sent as `query`, e.g. `{segments{id,name,totalLeads}}`. Not sent by default. */
	query?: string;
}

export interface SprintHubSegment {
	id: number;
	name: string;
	alias: string | null;
	isPublished: boolean | null;
	createDate: string | null;
	category: { id: number | string | null; title: string | null } | null;
	totalLeads: number | null;
	lastLeadUpdate: string | null;
	/** Every field as received. */
	raw: Record<string, unknown>;
}

export type PingFailureReason =
	| 'invalid_token'
	| 'unknown_instance'
	| 'forbidden'
	| 'not_found'
	| 'throttled'
	| 'unreachable'
	| 'timeout'
	| 'unexpected';

export type PingResult =
	| { ok: true; latencyMs: number; httpStatus: number }
	| { ok: false; reason: PingFailureReason; message: string; hint: string; httpStatus?: number; error: SyncError };

export type SprintHubEvent =
	| { type: 'request'; method: string; path: string; httpStatus: number; durationMs: number; attempt: number }
	| {
			type: 'throttled';
			method: string;
			path: string;
			httpStatus: number;
			/** How long every caller now pauses before the next call. */
			waitMs: number;
			retryAfterMs?: number;
			/** The budget's rate after the slow-down. */
			requestsPerMinute: number;
	  }
	| {
			type: 'retry';
			method: string;
			path: string;
			/** The attempt that is about to be made (2 = first retry). */
			attempt: number;
			errorClass: SyncErrorClass;
			code?: string;
			/** Backoff before the retry (0 after a throttle: the budget does the waiting). */
			delayMs: number;
			message: string;
	  }
	| { type: 'wait'; method: string; path: string; waitMs: number };

export interface SprintHubClientStats {
	/** Calls sent (every attempt). */
	requests: number;
	/** Responses that were throttle signals. */
	throttled: number;
	/** Calls sent again after a throttle or a transient failure. */
	retries: number;
	/** Time slept before retries plus time waited for the budget right after a throttle. */
	backoffMs: number;
	/** All time spent waiting for the rate budget (spacing and pauses). */
	waitMs: number;
	/** Failures by class (after which a retry may still have succeeded). */
	failures: Record<SyncErrorClass, number>;
}

export type { RateBudgetStats };
