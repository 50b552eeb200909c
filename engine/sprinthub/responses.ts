/**
 * Turning SprintHub answers into values or classified errors. Every variant the API is known to
 * produce is handled here: both throttle forms, "Cliente não definido", HTML gateway pages,
 * truncated JSON, both segment-list shapes, loose types in records.
 */
import { SyncError } from '../errors';
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

/**
 * Classifies a response that is not a success, or a success whose body says it failed.
 * Returns null when the response is a usable success (JSON in `json`).
 */
export function classifyResponse(response: RawResponse, ctx: CallContext): { error: SyncError } | { json: unknown } | { vanished: true } {
	const { status } = response;
	const secrets = ctx.secrets;
	const parsed = parseJson(response.text);
	const json = 'json' in parsed ? parsed.json : undefined;
	const message = serverMessage(json);
	const textForMatching = message ?? (looksLikeHtml(response) ? '' : response.text.slice(0, 2000));
	const said = message ? `: "${quote(message)}"` : '';
	const base = { httpStatus: status, secrets };

	const throttle = (): { error: SyncError } => ({
		error: new SyncError({
			...base,
			errorClass: 'throttled',
			code: status === 429 ? 'http_429' : 'too_many_requests',
			retryAfterMs: parseRetryAfter(headerValue(response.headers, 'retry-after'), ctx.now),
			message: `${describe(ctx)} was throttled (HTTP ${status}${said}).`,
		}),
	});

	if (status === 429) return throttle();
	if (status >= 400 && status < 500 && isThrottleText(textForMatching)) return throttle();
	if (isUnknownInstanceText(textForMatching) && (status >= 400 || !hasData(json))) {
		return {
			error: new SyncError({
				...base,
				errorClass: 'configuration',
				code: 'unknown_instance',
				message: `${describe(ctx)} answered that the instance is not defined (HTTP ${status}${said}).`,
				hint: HINT_INSTANCE,
			}),
		};
	}
	if (status === 401) {
		return {
			error: new SyncError({
				...base,
				errorClass: 'configuration',
				code: 'invalid_token',
				message: `${describe(ctx)} refused the API token (HTTP 401${said}).`,
				hint: HINT_TOKEN,
			}),
		};
	}
	if (status === 403) {
		return {
			error: new SyncError({
				...base,
				errorClass: 'configuration',
				code: 'forbidden',
				message: `${describe(ctx)} is not allowed for this token (HTTP 403${said}).`,
				hint: 'Use the token of a SprintHub user that may read leads and segments, or check the instance.',
			}),
		};
	}
	if (status === 404) {
		const html = looksLikeHtml(response);
		if (ctx.endpoint === 'leadDetail' && !html) return { vanished: true };
		if (ctx.endpoint === 'segmentPage' && !html) {
			return {
				error: new SyncError({
					...base,
					errorClass: 'configuration',
					code: 'unknown_segment',
					message: `${describe(ctx)}: the segment does not exist in this SprintHub account (HTTP 404${said}).`,
					hint: 'Check the segment id: list the account segments (the node offers them in a list) and use one of their ids.',
				}),
			};
		}
		return {
			error: new SyncError({
				...base,
				errorClass: 'configuration',
				code: 'not_found',
				message: `${describe(ctx)} was not found (HTTP 404${html ? ', an HTML page' : said}).`,
				hint: HINT_BASE_URL,
			}),
		};
	}
	if (status === 408 || status === 425) {
		return { error: new SyncError({ ...base, errorClass: 'transient', code: 'http_timeout', message: `${describe(ctx)} timed out on the server (HTTP ${status}).` }) };
	}
	if (status >= 500) {
		const title = looksLikeHtml(response) ? htmlTitle(response.text) : undefined;
		const what = looksLikeHtml(response) ? `an HTML page${title ? ` "${quote(title, 80)}"` : ''}` : message ? `"${quote(message)}"` : 'an error';
		return {
			error: new SyncError({
				...base,
				errorClass: 'transient',
				code: 'http_5xx',
				message: `${describe(ctx)} failed on the server side (HTTP ${status}, ${what}).`,
			}),
		};
	}
	if (status >= 400) {
		const unknownSegment = ctx.endpoint === 'segmentPage';
		return {
			error: new SyncError({
				...base,
				errorClass: 'configuration',
				code: unknownSegment ? 'segment_request_rejected' : 'http_4xx',
				message: `${describe(ctx)} was rejected (HTTP ${status}${said}).`,
				hint: unknownSegment
					? 'Check the segment id and the page settings; the segment may not exist in this account.'
					: 'Check the SprintHub credential and the node parameters.',
			}),
		};
	}
	if (status < 200 || status >= 300) {
		return {
			error: new SyncError({ ...base, errorClass: 'transient', code: 'http_unexpected', message: `${describe(ctx)} answered with an unexpected HTTP ${status}.` }),
		};
	}

	// 2xx from here on.
	if (looksLikeHtml(response)) {
		const title = htmlTitle(response.text);
		return {
			error: new SyncError({
				...base,
				errorClass: 'transient',
				code: 'html_body',
				message: `${describe(ctx)} answered with an HTML page instead of JSON${title ? ` ("${quote(title, 80)}")` : ''}.`,
			}),
		};
	}
	if ('parseError' in parsed) {
		return {
			error: new SyncError({ ...base, errorClass: 'transient', code: 'invalid_json', message: `${describe(ctx)} answered with ${parsed.parseError}.` }),
		};
	}
	if (!hasData(json) && message && isThrottleText(message)) return throttle();
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
