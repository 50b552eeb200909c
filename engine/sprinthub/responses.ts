/**
 * Turning SprintHub answers into values or classified errors. Every variant the API is known to
 * produce is handled here: both throttle forms, "Cliente não definido", HTML gateway pages,
 * truncated JSON, both segment-list shapes, loose types in records.
 */
import { SyncError, type SyncErrorClass } from '../errors';
import type { InvalidLeadRecord, LeadPage, SprintHubLead, SprintHubSegment } from './types';

export type Endpoint = 'segmentPage' | 'leadDetail' | 'segments' | 'leads';

export interface RawResponse {
	status: number;
	headers: Record<string, string | string[] | undefined>;
	text: string;
}

export interface CallContext {
	endpoint: Endpoint;
	method: string;
	/** Path without query, safe to show. */
	path: string;
	/** What the call was for, e.g. 'segment 42'. */
	subject?: string;
	secrets: readonly string[];
	now: number;
}

const HINT_TOKEN = 'Check the API token in the SprintHub credential: copy it again from SprintHub (Settings → Integrations → API).';
const HINT_INSTANCE =
	'Check the instance in the SprintHub credential: it is the account subdomain, e.g. "acme" for acme.sprinthub.app.';
const HINT_BASE_URL =
	'Check the base URL in the SprintHub credential, e.g. https://sprinthub-api-master.sprinthub.app or https://api.sprinthub.app.';

function headerValue(headers: RawResponse['headers'], name: string): string | undefined {
	const value = headers[name] ?? headers[name.toLowerCase()];
	return Array.isArray(value) ? value[0] : value;
}

/** Retry-After as ms: delta-seconds or an HTTP date; undefined when absent or unusable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
	if (value === undefined) return undefined;
	const trimmed = value.trim();
	if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.min(3_600_000, Math.round(Number(trimmed) * 1000));
	const date = Date.parse(trimmed);
	if (Number.isNaN(date)) return undefined;
	return Math.min(3_600_000, Math.max(0, date - now));
}

function fold(text: string): string {
	return text
		.normalize('NFD')
		.replace(/[\u0300-\u036f]/g, '')
		.toLowerCase();
}

/** The server's own message, from the usual fields. */
function serverMessage(json: unknown): string | undefined {
	if (!json || typeof json !== 'object' || Array.isArray(json)) return undefined;
	const record = json as Record<string, unknown>;
	for (const key of ['msg', 'message', 'error', 'erro', 'mensagem']) {
		const value = record[key];
		if (typeof value === 'string' && value.trim()) return value.trim();
		if (value && typeof value === 'object' && typeof (value as Record<string, unknown>).message === 'string') {
			return String((value as Record<string, unknown>).message);
		}
	}
	return undefined;
}

function isThrottleText(text: string): boolean {
	return /too\s+many\s+requests/.test(fold(text));
}

function isUnknownInstanceText(text: string): boolean {
	const folded = fold(text);
	return /cliente\s+nao\s+(definido|encontrado)|client\s+(is\s+)?not\s+(defined|found)|instancia\s+(nao|invalida)|unknown\s+instance/.test(folded);
}

function looksLikeHtml(response: RawResponse): boolean {
	const type = headerValue(response.headers, 'content-type') ?? '';
	return /html/i.test(type) || /^\s*</.test(response.text);
}

function htmlTitle(text: string): string | undefined {
	const match = /<title[^>]*>([^<]{1,120})<\/title>/i.exec(text);
	return match ? match[1].trim() : undefined;
}

function quote(text: string, max = 200): string {
	const flat = text.replace(/\s+/g, ' ').trim();
	return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

type Parsed = { json: unknown } | { parseError: string };

function parseJson(text: string): Parsed {
	if (!text.trim()) return { parseError: 'an empty body' };
	try {
		return { json: JSON.parse(text) };
	} catch (error) {
		const detail = error instanceof Error ? error.message : String(error);
		return { parseError: `a body that is not valid JSON (${text.length} bytes, possibly truncated: ${detail})` };
	}
}

function describe(ctx: CallContext): string {
	return `SprintHub ${ctx.method} ${ctx.path}${ctx.subject ? ` (${ctx.subject})` : ''}`;
}

type Classified = { error: SyncError } | { json: unknown } | { vanished: true };

/** A response as the classifier reads it. */
interface Answer {
	response: RawResponse;
	ctx: CallContext;
	status: number;
	parsed: Parsed;
	json: unknown;
	/** The server's own message (msg, message, error), when the body has one. */
	message: string | undefined;
	/** `: "message"` for the texts below, or ''. */
	said: string;
	/** What throttle and instance texts are looked for in. */
	textForMatching: string;
}

/**
 * Classifies a response: a usable success (JSON in `json`), a lead that no longer exists
 * (`vanished`), or an error of the class that says what to do (configuration, throttled, transient).
 */
export function classifyResponse(response: RawResponse, ctx: CallContext): Classified {
	const parsed = parseJson(response.text);
	const json = 'json' in parsed ? parsed.json : undefined;
	const message = serverMessage(json);
	const answer: Answer = {
		response,
		ctx,
		status: response.status,
		parsed,
		json,
		message,
		said: message ? `: "${quote(message)}"` : '',
		textForMatching: message ?? (looksLikeHtml(response) ? '' : response.text.slice(0, 2000)),
	};
	const { status } = answer;
	if (status === 429 || (status >= 400 && status < 500 && isThrottleText(answer.textForMatching))) return throttled(answer);
	if (isUnknownInstanceText(answer.textForMatching) && (status >= 400 || !hasData(json))) {
		return failure(answer, 'configuration', 'unknown_instance', `answered that the instance is not defined (HTTP ${status}${answer.said}).`, HINT_INSTANCE);
	}
	if (status < 200 || status >= 300) return classifyFailedStatus(answer);
	return classifySuccessBody(answer);
}

function failure(answer: Answer, errorClass: SyncErrorClass, code: string, what: string, hint?: string): { error: SyncError } {
	const message = `${describe(answer.ctx)}${what.startsWith(':') ? '' : ' '}${what}`;
	return { error: new SyncError({ httpStatus: answer.status, secrets: answer.ctx.secrets, errorClass, code, message, hint }) };
}

function throttled(answer: Answer): { error: SyncError } {
	const { status, ctx } = answer;
	return {
		error: new SyncError({
			httpStatus: status,
			secrets: ctx.secrets,
			errorClass: 'throttled',
			code: status === 429 ? 'http_429' : 'too_many_requests',
			retryAfterMs: parseRetryAfter(headerValue(answer.response.headers, 'retry-after'), ctx.now),
			message: `${describe(ctx)} was throttled (HTTP ${status}${answer.said}).`,
		}),
	};
}

/** Any status but 2xx (throttling and an unknown instance are told apart before). */
function classifyFailedStatus(answer: Answer): Classified {
	const { status, said, response, ctx } = answer;
	// A 401 whose JSON body arrived cut short cannot be told apart from a throttle's
	// ("too many requests" may be in the missing part): retry it; a refused token answers readably again.
	if (status === 401 && 'parseError' in answer.parsed && response.text.trimStart().startsWith('{')) {
		return failure(answer, 'transient', 'unreadable_401', `answered HTTP 401 with ${answer.parsed.parseError}; retrying, since a refused token answers with a readable message.`);
	}
	if (status === 401) return failure(answer, 'configuration', 'invalid_token', `refused the API token (HTTP 401${said}).`, HINT_TOKEN);
	if (status === 403) {
		return failure(answer, 'configuration', 'forbidden', `is not allowed for this token (HTTP 403${said}).`, 'Use the token of a SprintHub user that may read leads and segments, or check the instance.');
	}
	if (status === 404) return classifyNotFound(answer);
	if (status === 408 || status === 425) return failure(answer, 'transient', 'http_timeout', `timed out on the server (HTTP ${status}).`);
	if (status >= 500) {
		const title = looksLikeHtml(response) ? htmlTitle(response.text) : undefined;
		const what = looksLikeHtml(response) ? `an HTML page${title ? ` "${quote(title, 80)}"` : ''}` : answer.message ? `"${quote(answer.message)}"` : 'an error';
		return failure(answer, 'transient', 'http_5xx', `failed on the server side (HTTP ${status}, ${what}).`);
	}
	if (status >= 400) {
		const segment = ctx.endpoint === 'segmentPage';
		return failure(
			answer,
			'configuration',
			segment ? 'segment_request_rejected' : 'http_4xx',
			`was rejected (HTTP ${status}${said}).`,
			segment ? 'Check the segment id and the page settings; the segment may not exist in this account.' : 'Check the SprintHub credential and the node parameters.',
		);
	}
	return failure(answer, 'transient', 'http_unexpected', `answered with an unexpected HTTP ${status}.`);
}

/** 404: a lead that no longer exists, a segment that does not, or a wrong base URL. */
function classifyNotFound(answer: Answer): Classified {
	const { said, response, ctx } = answer;
	const html = looksLikeHtml(response);
	if (ctx.endpoint === 'leadDetail' && !html) return { vanished: true };
	if (ctx.endpoint === 'segmentPage' && !html) {
		return failure(
			answer,
			'configuration',
			'unknown_segment',
			`: the segment does not exist in this SprintHub account (HTTP 404${said}).`,
			'Check the segment id: list the account segments (the node offers them in a list) and use one of their ids.',
		);
	}
	return failure(answer, 'configuration', 'not_found', `was not found (HTTP 404${html ? ', an HTML page' : said}).`, HINT_BASE_URL);
}

/** 2xx: an HTML page, a body that is not JSON, or a body that says it was throttled, are failures. */
function classifySuccessBody(answer: Answer): Classified {
	const { response, parsed, json, message } = answer;
	if (looksLikeHtml(response)) {
		const title = htmlTitle(response.text);
		return failure(answer, 'transient', 'html_body', `answered with an HTML page instead of JSON${title ? ` ("${quote(title, 80)}")` : ''}.`);
	}
	if ('parseError' in parsed) return failure(answer, 'transient', 'invalid_json', `answered with ${parsed.parseError}.`);
	if (!hasData(json) && message && isThrottleText(message)) return throttled(answer);
	return { json };
}

function hasData(json: unknown): boolean {
	return Array.isArray(json) || (!!json && typeof json === 'object' && 'data' in (json as object) && (json as Record<string, unknown>).data != null);
}

function shapeError(ctx: CallContext, what: string, json: unknown): SyncError {
	const message = serverMessage(json);
	return new SyncError({
		errorClass: 'transient',
		code: 'unexpected_shape',
		httpStatus: 200,
		secrets: ctx.secrets,
		message: `${describe(ctx)} answered with JSON of an unexpected shape: ${what}${message ? ` (the server said "${quote(message)}")` : ''}.`,
	});
}

function typeName(value: unknown): string {
	if (value === null) return 'null';
	if (Array.isArray(value)) return 'an array';
	return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** A non-negative integer given as number or digit string. */
function toCount(value: unknown): number | undefined {
	if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
	if (typeof value === 'string' && /^\d{1,15}$/.test(value.trim())) return Number(value.trim());
	return undefined;
}

/** A positive integer id given as number or digit string. */
function toLeadId(value: unknown): number | undefined {
	const count = toCount(value);
	return count !== undefined && count > 0 ? count : undefined;
}

function dataObject(json: unknown, ctx: CallContext): Record<string, unknown> {
	if (!json || typeof json !== 'object' || Array.isArray(json)) throw shapeError(ctx, `expected an object with "data", got ${typeName(json)}`, json);
	const data = (json as Record<string, unknown>).data;
	if (!data || typeof data !== 'object' || Array.isArray(data)) throw shapeError(ctx, `expected "data" to be an object, got ${typeName(data)}`, json);
	return data as Record<string, unknown>;
}

/** Checks one lead record; returns the lead with a numeric id, or the reason it cannot be used. */
function checkLead(raw: unknown, ctx: CallContext, index?: number): SprintHubLead | SyncError {
	const where = index === undefined ? '' : ` at position ${index}`;
	if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
		return new SyncError({
			errorClass: 'data',
			code: 'lead_not_object',
			secrets: ctx.secrets,
			message: `${describe(ctx)}: the lead record${where} is ${typeName(raw)}, not an object.`,
			hint: 'The record was quarantined; the run went on.',
		});
	}
	const record = raw as Record<string, unknown>;
	const id = toLeadId(record.id);
	if (id === undefined) {
		const shown = record.id === undefined ? 'missing' : quote(JSON.stringify(record.id) ?? String(record.id), 40);
		return new SyncError({
			errorClass: 'data',
			code: 'lead_invalid_id',
			secrets: ctx.secrets,
			message: `${describe(ctx)}: the lead record${where} has no positive integer id (id is ${shown}).`,
			hint: 'The record was quarantined; the run went on. Look the lead up in SprintHub.',
		});
	}
	return { ...record, id };
}

export function parseLeadPage(json: unknown, ctx: CallContext): LeadPage {
	const data = dataObject(json, ctx);
	const total = toCount(data.total);
	if (total === undefined) {
		throw shapeError(
			ctx,
			data.total === undefined
				? '"data.total" is missing (does the query projection name total?)'
				: `"data.total" is ${typeName(data.total)} (${quote(String(JSON.stringify(data.total)), 40)}), not a non-negative integer`,
			json,
		);
	}
	if (!Array.isArray(data.leads)) throw shapeError(ctx, `"data.leads" is ${typeName(data.leads)}, not an array`, json);
	const leads: SprintHubLead[] = [];
	const invalid: InvalidLeadRecord[] = [];
	data.leads.forEach((raw, index) => {
		const checked = checkLead(raw, ctx, index);
		if (checked instanceof SyncError) invalid.push({ index, raw, error: checked });
		else leads.push(checked);
	});
	return { total, leads, invalid, received: data.leads.length };
}

/** `{data:{lead}}`; `lead: null` means the lead does not exist (like a 404). */
export function parseLeadDetail(json: unknown, ctx: CallContext, expectedId: number): SprintHubLead | null {
	const data = dataObject(json, ctx);
	if (!('lead' in data)) throw shapeError(ctx, '"data.lead" is missing', json);
	if (data.lead === null) return null;
	const checked = checkLead(data.lead, ctx);
	if (checked instanceof SyncError) throw checked;
	if (checked.id !== expectedId) {
		throw new SyncError({
			errorClass: 'data',
			code: 'lead_id_mismatch',
			secrets: ctx.secrets,
			message: `${describe(ctx)} returned lead ${checked.id} instead of lead ${expectedId}.`,
			hint: 'The record was quarantined; the run went on.',
		});
	}
	return checked;
}

/** A bare array of segments or `{data:{segments:[…]}}`. Items without a usable id are skipped. */
export function parseSegments(json: unknown, ctx: CallContext): SprintHubSegment[] {
	let items: unknown;
	if (Array.isArray(json)) items = json;
	else if (json && typeof json === 'object' && !Array.isArray(json)) {
		const data = (json as Record<string, unknown>).data;
		if (!data || typeof data !== 'object') throw shapeError(ctx, `expected a JSON array or {"data":{"segments":[…]}}, got "data" as ${typeName(data)}`, json);
		items = Array.isArray(data) ? data : (data as Record<string, unknown>).segments;
		if (!Array.isArray(items)) throw shapeError(ctx, `"data.segments" is ${typeName(items)}, not an array`, json);
	} else {
		throw shapeError(ctx, `expected a JSON array or {"data":{"segments":[…]}}, got ${typeName(json)}`, json);
	}
	const segments: SprintHubSegment[] = [];
	for (const item of items as unknown[]) {
		if (!item || typeof item !== 'object' || Array.isArray(item)) continue;
		const raw = item as Record<string, unknown>;
		const id = toLeadId(raw.id);
		if (id === undefined) continue;
		const category = raw.category && typeof raw.category === 'object' && !Array.isArray(raw.category) ? (raw.category as Record<string, unknown>) : null;
		segments.push({
			id,
			name: typeof raw.name === 'string' ? raw.name : String(raw.name ?? `Segment ${id}`),
			alias: typeof raw.alias === 'string' ? raw.alias : null,
			isPublished: typeof raw.isPublished === 'boolean' ? raw.isPublished : raw.isPublished === 1 || raw.isPublished === '1' ? true : raw.isPublished === 0 || raw.isPublished === '0' ? false : null,
			createDate: typeof raw.createDate === 'string' && raw.createDate ? raw.createDate : null,
			category: category
				? {
						id: typeof category.id === 'number' || typeof category.id === 'string' ? category.id : null,
						title: typeof category.title === 'string' ? category.title : null,
					}
				: null,
			totalLeads: toCount(raw.totalLeads) ?? null,
			lastLeadUpdate: typeof raw.lastLeadUpdate === 'string' && raw.lastLeadUpdate ? raw.lastLeadUpdate : null,
			raw,
		});
	}
	return segments;
}
