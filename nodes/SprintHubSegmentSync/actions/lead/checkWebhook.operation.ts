import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { parameterError } from '../../helpers/errors';
import { forEachItem } from '../../helpers/itemLoop';
import type { EngineProvider } from '../../transport';
import { checkBody, MIN_SECRET_LENGTH, refuse, secretMatches, type Verdict, type WebhookRequest } from '../../helpers/webhookRequest';

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

/**
 * Checks what a Webhook node received before anything is written: the URL secret (when asked), the
 * content type, the size and the lead id. Each item becomes {accepted, statusCode, message, leadId,
 * body}: a Respond to Webhook node answers with statusCode and message. Headers and query are not
 * passed on, so the secret goes no further than the Webhook node's own output.
 */
export async function execute(this: IExecuteFunctions, items: INodeExecutionData[], provider: EngineProvider): Promise<INodeExecutionData[]> {
	const senderCheck = this.getNodeParameter('senderCheck', 0, 'none') as string;
	let secret: string | undefined;
	if (senderCheck === 'query') {
		const credential = (await this.getCredentials('httpHeaderAuth', 0)) as { value?: unknown };
		secret = String(credential.value ?? '');
		provider.secrets.add(secret);
		if (secret.length < MIN_SECRET_LENGTH) {
			throw parameterError(
				this.getNode(),
				0,
				'The webhook secret is too short',
				'Put a long random value (at least 24 characters, e.g. openssl rand -hex 32) into the Value of the Header Auth credential.',
			);
		}
	}
	return forEachItem.call(this, items, provider.secrets, () => 'Check Webhook', async (itemIndex) => {
		const request = items[itemIndex].json as WebhookRequest;
		let verdict: Verdict;
		if (secret !== undefined) {
			const name = String(this.getNodeParameter('queryParameter', itemIndex, 'secret') ?? '').trim() || 'secret';
			const given = request.query?.[name];
			verdict =
				secretMatches(given, secret)
					? checkBody(request)
					: refuse(401, 'The request does not carry the webhook secret');
		} else {
			verdict = checkBody(request);
		}
		return [{ json: verdict as unknown as IDataObject, pairedItem: { item: itemIndex } }];
	});
}

