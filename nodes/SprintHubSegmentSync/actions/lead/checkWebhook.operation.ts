import { createHash, timingSafeEqual } from 'node:crypto';
import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { parameterError } from '../../helpers/errors';
import { forEachItem } from '../../helpers/itemLoop';
import type { EngineProvider } from '../../transport';
import { leadIdOf } from './upsertFetched';

/** Larger bodies are refused (413): a lead record is a few KB. */
export const MAX_BODY_BYTES = 1024 * 1024;

const properties: INodeProperties[] = [
	{
		displayName: 'Sender Check',
		name: 'senderCheck',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Done by the Webhook Node (Header Auth)',
				value: 'none',
				description: 'The Webhook node’s Header Auth already refused requests without the header',
			},
			{
				name: 'URL Secret (Query Parameter)',
				value: 'query',
				description: 'The request URL carries the secret of the Header Auth credential below as a query parameter, compared in constant time',
			},
		],
		default: 'none',
	},
	{
		displayName: 'Query Parameter',
		name: 'queryParameter',
		type: 'string',
		default: 'secret',
		displayOptions: { show: { senderCheck: ['query'] } },
		description: 'The name of the query parameter that carries the secret, e.g. secret for a URL ending in ?secret=…',
	},
];

export const description = updateDisplayOptions({ show: { resource: ['lead'], operation: ['checkWebhook'] } }, properties);

interface WebhookItem {
	headers?: Record<string, unknown>;
	query?: Record<string, unknown>;
	body?: unknown;
}

/**
 * Checks what a Webhook node received before anything is written: the URL secret (when asked), the
 * content type, the size and the lead id. Each item becomes {accepted, statusCode, message, leadId,
 * body}: a Respond to Webhook node answers with statusCode and message. Headers and query are not
 * passed on, so the secret goes no further than the Webhook node's own output.
 */
export async function execute(this: IExecuteFunctions, items: INodeExecutionData[], provider: EngineProvider): Promise<INodeExecutionData[]> {
	const senderCheck = this.getNodeParameter('senderCheck', 0, 'none') as string;
	let secretDigest: Buffer | undefined;
	if (senderCheck === 'query') {
		const credential = (await this.getCredentials('httpHeaderAuth', 0)) as { value?: unknown };
		const secret = String(credential.value ?? '');
		provider.secrets.add(secret);
		if (secret.length < 24) {
			throw parameterError(
				this.getNode(),
				0,
				'The webhook secret is too short',
				'Put a long random value (at least 24 characters, e.g. openssl rand -hex 32) into the Value of the Header Auth credential.',
			);
		}
		secretDigest = digest(secret);
	}
	return forEachItem.call(this, items, provider.secrets, () => 'Check Webhook', async (itemIndex) => {
		const request = items[itemIndex].json as WebhookItem;
		let verdict: Verdict;
		if (secretDigest) {
			const name = String(this.getNodeParameter('queryParameter', itemIndex, 'secret') ?? '').trim() || 'secret';
			const given = request.query?.[name];
			verdict =
				typeof given === 'string' && timingSafeEqual(digest(given), secretDigest)
					? checkBody(request)
					: refuse(401, 'The request does not carry the webhook secret');
		} else {
			verdict = checkBody(request);
		}
		return [{ json: verdict as unknown as IDataObject, pairedItem: { item: itemIndex } }];
	});
}

interface Verdict {
	accepted: boolean;
	statusCode: number;
	message: string;
	leadId?: number;
	body?: unknown;
}

/** What is wrong with the body, in words the sender's developer can act on; or the lead it names. */
export function checkBody(request: WebhookItem): Verdict {
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

function refuse(statusCode: number, message: string): Verdict {
	return { accepted: false, statusCode, message };
}

/** Fixed-length digests, so the comparison takes the same time whatever the length of what was sent. */
function digest(text: string): Buffer {
	return createHash('sha256').update(text, 'utf8').digest();
}
