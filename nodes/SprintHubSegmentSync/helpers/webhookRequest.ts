import { createHash, timingSafeEqual } from 'node:crypto';

/** Larger bodies are refused (413): a lead record is a few KB. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The parts of a webhook request the checks read. */
export interface WebhookRequest {
	headers?: Record<string, unknown>;
	query?: Record<string, unknown>;
	body?: unknown;
}

export interface Verdict {
	accepted: boolean;
	statusCode: number;
	message: string;
	leadId?: number;
	body?: unknown;
}

/** A lead id as SprintHub uses it: a positive safe integer, given as a number or a digit string. */
export function leadIdOf(value: unknown): number | undefined {
	const raw = value && typeof value === 'object' && !Array.isArray(value) ? (value as { id?: unknown }).id : value;
	const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
	if (!/^\d+$/.test(text)) return undefined;
	const id = Number(text);
	return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/** What is wrong with the body, in words the sender's developer can act on; or the lead it names. */
export function checkBody(request: WebhookRequest): Verdict {
	const headers = request.headers ?? {};
	const contentType = String(headers['content-type'] ?? '').toLowerCase();
	if (!/^application\/(.+\+)?json\s*(;|$)/.test(contentType)) {
		return refuse(415, `The content type must be application/json, not ${contentType ? JSON.stringify(contentType.slice(0, 60)) : 'missing'}`);
	}
	const declared = Number(headers['content-length']);
	const size = Number.isFinite(declared) && declared > 0 ? declared : Buffer.byteLength(JSON.stringify(request.body ?? null));
	if (size > MAX_BODY_BYTES) return refuse(413, `The body is ${size} bytes; at most ${MAX_BODY_BYTES} are accepted (one lead per request)`);
	const body = request.body;
	if (Array.isArray(body)) return refuse(400, 'The body is a JSON array; send one lead per request, e.g. {"id": 123}');
	if (!body || typeof body !== 'object') return refuse(400, 'The body is not a JSON object; send the lead, e.g. {"id": 123}');
	const data = (body as { data?: { lead?: unknown } }).data;
	const lead = data && typeof data === 'object' && data.lead && typeof data.lead === 'object' ? data.lead : body;
	if (Array.isArray(lead)) return refuse(400, 'data.lead is an array; send one lead per request');
	const raw = (lead as { id?: unknown }).id;
	if (raw === undefined || raw === null || raw === '') return refuse(400, 'The body has no lead id; send the lead, e.g. {"id": 123}');
	const leadId = leadIdOf(lead);
	if (leadId === undefined) return refuse(400, `The lead id ${JSON.stringify(raw).slice(0, 40)} is not a positive integer`);
	return { accepted: true, statusCode: 202, message: `Lead ${leadId} accepted`, leadId, body };
}

export function refuse(statusCode: number, message: string): Verdict {
	return { accepted: false, statusCode, message };
}

/** The shortest webhook secret accepted: a URL secret must not be guessable. */
export const MIN_SECRET_LENGTH = 24;

/** Whether `given` is the secret, compared in constant time (fixed-length digests, whatever was sent). */
export function secretMatches(given: unknown, secret: string): boolean {
	if (typeof given !== 'string') return false;
	return timingSafeEqual(digest(given), digest(secret));
}

function digest(text: string): Buffer {
	return createHash('sha256').update(text, 'utf8').digest();
}
