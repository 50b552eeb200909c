import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type INodeType,
	type INodeTypeDescription,
	type IWebhookFunctions,
	type IWebhookResponseData,
} from 'n8n-workflow';
import { checkBody, MIN_SECRET_LENGTH, secretMatches } from '../SprintHubSegmentSync/helpers/webhookRequest';

/**
 * A webhook that checks the sender's secret itself (header or URL query parameter, constant time)
 * and the request (content type, size, lead id), answers refusals itself, and starts the workflow
 * with the lead id only. n8n keeps a trigger's output in execution data; headers and query (with
 * the secret) never become output, so no execution ever holds the secret.
 */
export class SprintHubLeadTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'SprintHub Lead Webhook Trigger',
		name: 'sprintHubLeadTrigger',
		icon: { light: 'file:sprinthub.svg', dark: 'file:sprinthub.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{ "POST /" + $parameter["path"] }}',
		description: 'Starts the workflow with the id of a lead SprintHub says is new or changed; refuses requests without the webhook secret',
		defaults: { name: 'SprintHub Lead Webhook' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			// eslint-disable-next-line n8n-nodes-base/node-class-description-credentials-name-unsuffixed -- n8n's own Header Auth credential: its Name is the header, its Value the secret
			{ name: 'httpHeaderAuth', required: true, displayName: 'SprintHub Webhook Secret (Header Auth)' },
		],
		webhooks: [
			{
				name: 'default',
				httpMethod: 'POST',
				// The answer (202, or the refusal) is written by webhook() before the workflow runs.
				responseMode: 'onReceived',
				path: '={{$parameter["path"]}}',
				isFullPath: true,
			},
		],
		properties: [
			{
				displayName: 'Path',
				name: 'path',
				type: 'string',
				default: 'sprinthub-lead',
				required: true,
				description: 'The webhook URL ends in /webhook/ followed by this path',
			},
			{
				displayName: 'Accept the Secret in the URL',
				name: 'acceptQuery',
				type: 'boolean',
				default: true,
				description:
					'Whether a sender that can only be given a URL may send the secret (the Value of the Header Auth credential) as a query parameter, e.g. ?secret=…; the header (named as in the credential) is always accepted',
			},
			{
				displayName: 'Query Parameter',
				name: 'queryParameter',
				type: 'string',
				default: 'secret',
				displayOptions: { show: { acceptQuery: [true] } },
				description: 'The name of the query parameter that carries the secret',
			},
		],
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const credential = (await this.getCredentials('httpHeaderAuth')) as { name?: unknown; value?: unknown };
		const secret = String(credential.value ?? '');
		if (secret.length < MIN_SECRET_LENGTH) {
			// n8n answers 500 and records this error (never the secret) in a failed execution.
			throw new NodeOperationError(this.getNode(), 'The webhook secret is too short', {
				description: `Put a long random value (at least ${MIN_SECRET_LENGTH} characters, e.g. openssl rand -hex 32) into the Value of the Header Auth credential.`,
			});
		}
		const headers = this.getHeaderData() as Record<string, unknown>;
		const query = this.getQueryData() as Record<string, unknown>;
		const res = this.getResponseObject();
		const headerName = String(credential.name ?? '').trim().toLowerCase();
		const byHeader = headerName !== '' && secretMatches(headers[headerName], secret);
		let byQuery = false;
		if (this.getNodeParameter('acceptQuery', true) as boolean) {
			const name = String(this.getNodeParameter('queryParameter', 'secret') ?? '').trim() || 'secret';
			byQuery = secretMatches(query[name], secret);
		}
		if (!byHeader && !byQuery) {
			res.status(401).json({ error: 'The request does not carry the webhook secret' });
			return { noWebhookResponse: true };
		}
		const verdict = checkBody({ headers, body: this.getBodyData() });
		if (!verdict.accepted || verdict.leadId === undefined) {
			res.status(verdict.statusCode).json({ error: verdict.message });
			return { noWebhookResponse: true };
		}
		res.status(202).json({ accepted: true, leadId: verdict.leadId });
		// Only the lead id goes on: the body is a hint (the lead is fetched from SprintHub), and
		// headers and query would carry the secret into n8n's execution data.
		const lead: IDataObject = { leadId: verdict.leadId, receivedAt: new Date().toISOString() };
		return { noWebhookResponse: true, workflowData: [[{ json: lead }]] };
	}
}
