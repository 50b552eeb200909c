import './support/env';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookContext } from 'n8n-core';
import { Workflow, type ICredentialDataDecryptedObject, type INode, type INodeParameters, type IWebhookData, type IWebhookResponseData, type IWorkflowExecuteAdditionalData } from 'n8n-workflow';
import { SprintHubLeadTrigger } from '../../nodes/SprintHubLeadTrigger/SprintHubLeadTrigger.node';
import { stopN8n } from './support/n8n';

/**
 * The SprintHub Lead Webhook Trigger behind real HTTP on loopback, in n8n-core's own WebhookContext:
 * the server parses the request as n8n's webhook server does (JSON bodies, query, lower-cased
 * headers) and lets the node answer. What the node hands to the workflow must be the lead id only.
 */
const SECRET = 'whsec-0123456789abcdef0123456789abcdef';
const HEADER = 'X-SprintHub-Secret';
const TRIGGER_TYPE = 'n8n-nodes-sprinthub-sync.sprintHubLeadTrigger';
const trigger = new SprintHubLeadTrigger();

let server: Server;
let baseUrl: string;
let parameters: INodeParameters = {};
let credential: ICredentialDataDecryptedObject = { name: HEADER, value: SECRET };
const results: Array<{ result?: IWebhookResponseData; error?: Error }> = [];

/** express's res.status().json(), which n8n's webhook server hands to nodes. */
function expressLike(res: ServerResponse) {
	return Object.assign(res, {
		status(code: number) {
			res.statusCode = code;
			return this;
		},
		json(value: unknown) {
			res.setHeader('content-type', 'application/json; charset=utf-8');
			res.end(JSON.stringify(value));
			return this;
		},
	});
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
	const chunks: Buffer[] = [];
	for await (const chunk of req) chunks.push(chunk as Buffer);
	const text = Buffer.concat(chunks).toString('utf8');
	const url = new URL(req.url ?? '/', 'http://localhost');
	const body = /json/.test(String(req.headers['content-type'])) && text ? (JSON.parse(text) as unknown) : text;
	const httpRequest = Object.assign(req, { body, query: Object.fromEntries(url.searchParams) });
	const node: INode = {
		id: 'trigger',
		name: 'SprintHub lead',
		type: TRIGGER_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters: { path: 'sprinthub-lead', ...parameters },
		credentials: { httpHeaderAuth: { id: 'cred-webhook', name: 'SprintHub webhook secret' } },
	};
	const workflow = new Workflow({
		id: 'wf-trigger',
		name: 'trigger test',
		nodes: [node],
		connections: {},
		active: true,
		nodeTypes: { getByName: () => trigger, getByNameAndVersion: () => trigger, getKnownTypes: () => ({}) },
	});
	const additionalData = {
		executionId: 'exec-trigger',
		credentialsHelper: { getDecrypted: async () => ({ ...credential }), getCredentialsProperties: () => [] },
		httpRequest,
		httpResponse: expressLike(res),
		variables: {},
		restApiUrl: 'http://localhost/rest',
		instanceBaseUrl: 'http://localhost/',
	} as unknown as IWorkflowExecuteAdditionalData;
	const webhookData = { httpMethod: 'POST', node: node.name, path: 'sprinthub-lead', webhookDescription: trigger.description.webhooks![0], workflowId: 'wf-trigger' } as unknown as IWebhookData;
	const context = new WebhookContext(workflow, node, additionalData, 'webhook', webhookData, [], null);
	try {
		const result = await trigger.webhook.call(context);
		results.push({ result });
		if (!result.noWebhookResponse) res.writeHead(200).end('n8n answers');
	} catch (error) {
		results.push({ error: error as Error });
		res.writeHead(500).end('Error in workflow');
	}
}

beforeAll(async () => {
	server = createServer((req, res) => void handle(req, res));
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook/sprinthub-lead`;
});

afterAll(async () => {
	stopN8n();
	await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
	parameters = {};
	credential = { name: HEADER, value: SECRET };
});

async function post(options: { header?: string; query?: string; body?: string; type?: string } = {}) {
	const url = new URL(baseUrl);
	if (options.query !== undefined) url.searchParams.set('secret', options.query);
	const headers: Record<string, string> = { 'content-type': options.type ?? 'application/json' };
	if (options.header !== undefined) headers[HEADER] = options.header;
	const response = await fetch(url, { method: 'POST', headers, body: options.body ?? JSON.stringify({ id: 42, email: 'forged@evil.example' }) });
	return { status: response.status, body: (await response.json().catch(() => null)) as Record<string, unknown> | null, ran: results[results.length - 1] };
}

describe('SprintHub Lead Webhook Trigger', () => {
	it('accepts the secret in the header or in the URL, answers 202 and passes on only the lead id', async () => {
		for (const answer of [await post({ header: SECRET }), await post({ query: SECRET, body: JSON.stringify({ data: { lead: { id: '42' } } }) })]) {
			expect(answer.status).toBe(202);
			expect(answer.body).toEqual({ accepted: true, leadId: 42 });
			const items = answer.ran.result!.workflowData!;
			expect(items).toHaveLength(1);
			expect(items[0]).toHaveLength(1);
			expect(Object.keys(items[0][0].json).sort()).toEqual(['leadId', 'receivedAt']);
			expect(items[0][0].json.leadId).toBe(42);
			expect(JSON.stringify(items)).not.toContain(SECRET);
		}
	});

	it('refuses a missing or wrong secret with 401 and starts nothing', async () => {
		for (const options of [{}, { header: 'not-the-secret' }, { query: `${SECRET.slice(0, -1)}0` }, { header: SECRET.toUpperCase() }]) {
			const answer = await post(options);
			expect({ options, status: answer.status, body: answer.body }).toEqual({ options, status: 401, body: { error: 'The request does not carry the webhook secret' } });
			expect(answer.ran.result).toEqual({ noWebhookResponse: true });
		}
	});

	it('refuses the URL secret when Accept the Secret in the URL is off, and reads the query parameter named', async () => {
		parameters = { acceptQuery: false };
		expect((await post({ query: SECRET })).status).toBe(401);
		expect((await post({ header: SECRET })).status).toBe(202);
		parameters = { acceptQuery: true, queryParameter: 'token' };
		expect((await post({ query: SECRET })).status).toBe(401);
		const url = new URL(baseUrl);
		url.searchParams.set('token', SECRET);
		const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 7 }) });
		expect(response.status).toBe(202);
	});

	it('answers bad requests with the 4xx of Check Webhook Request and starts nothing', async () => {
		const cases = [
			{ body: JSON.stringify({ email: 'x@example.test' }), status: 400, says: /no lead id/ },
			{ body: JSON.stringify({ id: '42.5' }), status: 400, says: /not a positive integer/ },
			{ body: JSON.stringify([{ id: 42 }]), status: 400, says: /array/ },
			{ body: JSON.stringify({ id: 42, padding: 'x'.repeat(1_100_000) }), status: 413, says: /at most 1048576/ },
			{ body: JSON.stringify({ id: 42 }), type: 'text/plain', status: 415, says: /application\/json/ },
		];
		for (const item of cases) {
			const answer = await post({ header: SECRET, body: item.body, type: item.type });
			expect({ status: answer.status, result: answer.ran.result }).toEqual({ status: item.status, result: { noWebhookResponse: true } });
			expect(String(answer.body?.error)).toMatch(item.says);
		}
	});

	it('stops with an error naming the fix, not the secret, when the credential holds a short secret', async () => {
		credential = { name: HEADER, value: 'short-secret' };
		const answer = await post({ header: 'short-secret' });
		expect(answer.status).toBe(500);
		const error = answer.ran.error as Error & { description?: string };
		expect(error.message).toBe('The webhook secret is too short');
		expect(error.description).toMatch(/at least 24 characters/);
		expect(JSON.stringify({ message: error.message, description: error.description })).not.toContain('short-secret');
	});
});
