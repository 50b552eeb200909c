import { NodeApiError } from 'n8n-workflow';
import { closeSprintHubAccounts } from '../../engine';
import { rateBudgets } from '../../engine/sprinthub';
import { startSimulator, type Simulator } from '../support/simulator';
import { startStack, type Stack } from '../support/stack';
import { byId } from './support/fixtures';
import { everythingVisible, runNode, stopN8n, testSprintHubCredential, type Credentials } from './support/n8n';

/** The credential test against the simulator, and a Supabase project whose migrations were never run. */
let sim: Simulator;
let stack: Stack;

beforeAll(async () => {
	[sim, stack] = await Promise.all([startSimulator({ rateLimit: null, segments: [{ id: 301, name: 'Leads', size: 10 }] }), startStack({ migrations: false })]);
});

afterAll(async () => {
	stopN8n();
	await closeSprintHubAccounts();
	rateBudgets.clear();
	await Promise.all([sim?.close(), stack?.stop()]);
});

const sprintHub = (overrides: Partial<NonNullable<Credentials['sprintHubApi']>> = {}) => ({
	baseUrl: sim.baseUrl,
	instance: sim.instance,
	apiToken: sim.token,
	...overrides,
});

describe('credential test (the node’s methods.credentialTest via testedBy)', () => {
	test('a right credential passes; a wrong base URL says to check the base URL', async () => {
		expect(await testSprintHubCredential(sprintHub())).toMatchObject({ status: 'OK', message: expect.stringMatching(/instance acme/) });
		// Without a scheme the base URL is read as https://, which the plain-HTTP simulator cannot speak.
		const schemeless = await testSprintHubCredential(sprintHub({ baseUrl: sim.baseUrl.replace(/^http:\/\//, '') }));
		expect(schemeless.status).toBe('Error');
		expect(schemeless.message).toMatch(/Base URL/);
	});

	test('a Base URL without a scheme in front of a plain-HTTP server: says the server does not speak HTTPS, not OpenSSL’s text', async () => {
		const address = sim.baseUrl.replace(/^http:\/\//, '');
		const result = await testSprintHubCredential(sprintHub({ baseUrl: address }));
		expect(result.status).toBe('Error');
		expect(result.message).toContain(`The server at https://${address} does not speak HTTPS`);
		expect(result.message).toContain(`write the Base URL with http:// (http://${address})`);
		expect(result.message).not.toMatch(/ERR_SSL|ssl3_record|wrong version number/i);
	});

	test('a wrong token, a wrong instance and a throttled account get different messages, none with the token', async () => {
		const wrongToken = await testSprintHubCredential(sprintHub({ apiToken: 'aaaaaaaa-bbbb-4ccc-addd-eeeeeeeeeeee' }));
		expect(wrongToken.status).toBe('Error');
		expect(wrongToken.message).toMatch(/rejected the API token/);
		expect(wrongToken.message).not.toContain('aaaaaaaa-bbbb');

		const wrongInstance = await testSprintHubCredential(sprintHub({ instance: 'nosuchco' }));
		expect(wrongInstance.status).toBe('Error');
		expect(wrongInstance.message).toMatch(/does not know the instance "nosuchco"/);

		sim.setRateLimit({ requests: 1, windowMs: 60_000, mode: '401' });
		try {
			await testSprintHubCredential(sprintHub()); // uses the one allowed call
			const throttled = await testSprintHubCredential(sprintHub());
			expect(throttled.status).toBe('Error');
			expect(throttled.message).toMatch(/throttling/);
			expect(throttled.message).not.toContain(sim.token);
		} finally {
			sim.setRateLimit(null);
		}
	});
});

describe('a Supabase project without the migrations', () => {
	const credentials = (): Credentials => ({ sprintHubApi: sprintHub(), supabaseApi: { host: stack.supabaseUrl, serviceRole: stack.serviceRoleKey } });

	test.each([
		['Sync', { resource: 'segment', operation: 'sync', segment: byId(301), options: { requestsPerMinute: 60_000 } }],
		['Sync Due', { resource: 'segment', operation: 'syncDue', options: { requestsPerMinute: 60_000 } }],
		['Add', { resource: 'segment', operation: 'add', segment: byId(301) }],
		['Sync Health → Check', { resource: 'syncHealth', operation: 'check' }],
		['Lead → Upsert', { resource: 'lead', operation: 'upsert' }],
	])('%s fails with a NodeApiError that says to run the migrations', async (_name, parameters) => {
		const run = await runNode({ parameters, credentials: credentials(), items: [{ id: 1 }] });
		expect(run.error).toBeInstanceOf(NodeApiError);
		expect(`${run.error!.message} ${run.error!.description}`).toMatch(/run the migrations/);
		expect(run.error!.context?.itemIndex).toBe(0);
		const visible = everythingVisible(run);
		expect(visible).not.toContain(sim.token);
		expect(visible).not.toContain(stack.serviceRoleKey);
	});
});
