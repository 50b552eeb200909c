import { NodeOperationError, type INodeParameters } from 'n8n-workflow';
import { startSyncWorld, type SyncWorld } from '../support/world';
import { byId, credentialsOf, NodeRunner } from './support/fixtures';
import { stopN8n } from './support/n8n';

/**
 * What a user types into the node, checked where it enters: each wrong value stops its own item with a
 * NodeOperationError naming the field, through a real n8n execution context against the real stack.
 */
let world: SyncWorld;
let runner: NodeRunner;

beforeAll(async () => {
	world = await startSyncWorld({ segments: [{ id: 301, name: 'Inputs', size: 10 }] });
	runner = new NodeRunner(world);
});

afterAll(async () => {
	stopN8n();
	await world?.stop();
});

/** Runs two items whose second one carries the bad value (in `$json.value`); the error must name item 1. */
async function secondItemRefused(parameters: INodeParameters, value: string | number): Promise<NodeOperationError> {
	const run = await runner.run(parameters, { items: [{ value: null }, { value }] });
	expect(run.error).toBeInstanceOf(NodeOperationError);
	expect(run.error!.context?.itemIndex).toBe(1);
	return run.error as NodeOperationError;
}

describe('the Database Schema option is checked in every operation that has it', () => {
	const schema = '={{ $json.value ?? "public" }}';
	const operations: Array<[string, INodeParameters]> = [
		['Segment → Pause', { resource: 'segment', operation: 'pause', segment: byId(301), options: { schema } }],
		['Segment → Sync', { resource: 'segment', operation: 'sync', segment: byId(301), options: { schema } }],
		['Sync Health → Check', { resource: 'syncHealth', operation: 'check', options: { schema } }],
		['Sync Health → Report', { resource: 'syncHealth', operation: 'report', format: 'json', options: { schema } }],
		['Account → Set Rate', { resource: 'account', operation: 'setRate', accountRequestsPerMinute: 0, options: { schema } }],
	];
	beforeAll(async () => {
		await world.stack.query(`select sync_add_segment(301, 'Inputs', '1 day')`);
	});
	test.each(operations)('%s', async (_name, parameters) => {
		const error = await secondItemRefused(parameters, 'sync data; drop');
		expect(error.message).toBe('Database Schema "sync data; drop" is not a schema name');
		expect(error.description).toMatch(/exposed in the Supabase Data API, e\.g\. public/);
	});

	test('Lead → Create or Update too (its schema passes the engine provider)', async () => {
		const run = await runner.run({ resource: 'lead', operation: 'upsert', options: { schema: 'leads-v2' } }, { items: [{ id: 1 }] });
		expect(run.error).toBeInstanceOf(NodeOperationError);
		expect(run.error!.message).toBe('Database Schema "leads-v2" is not a schema name');
		expect(run.error!.context?.itemIndex).toBe(0);
	});
});

describe('health thresholds that are not numbers stop the item instead of switching the alert off', () => {
	test.each([
		['maxRunMinutes', 'ten', 'Max Run Minutes must be a number from 0 to 10080, got "ten"'],
		['minSuccessRate', '95%', 'Min Success Rate (%) must be a number from 0 to 100, got "95%"'],
		['maxConsecutiveFailures', 2.5, 'Max Consecutive Failures must be a whole number from 0 to 1000, got 2.5'],
		['staleAfterHours', -1, 'Stale After Hours must be a number from 0 to 8760, got -1'],
	])('Check: %s = %j', async (option, value, message) => {
		const error = await secondItemRefused({ resource: 'syncHealth', operation: 'check', options: { [option]: '={{ $json.value ?? undefined }}' } }, value);
		expect(error.message).toBe(message);
		expect(error.description).toMatch(/^Change the .+ option to a number/);
	});

	test('Report: a threshold or a rate that is not a number', async () => {
		const threshold = await secondItemRefused({ resource: 'syncHealth', operation: 'report', format: 'json', options: { minSuccessRate: '={{ $json.value ?? 95 }}' } }, 'high');
		expect(threshold.message).toBe('Min Success Rate (%) must be a number from 0 to 100, got "high"');
		const rate = await secondItemRefused({ resource: 'syncHealth', operation: 'report', format: 'json', options: { requestsPerMinute: '={{ $json.value ?? 80 }}' } }, 'fast');
		expect(rate.message).toBe('Requests Per Minute must be a number from 1 to 1000000, got "fast"');
	});

	test('numbers given as text from an expression still work', async () => {
		const run = await runner.run({ resource: 'syncHealth', operation: 'check', options: { includeUnchanged: true, maxRunMinutes: '={{ "15" }}' } });
		expect(run.error).toBeUndefined();
	});
});

describe('Segment → Add', () => {
	const add = (options: INodeParameters): INodeParameters => ({ resource: 'segment', operation: 'add', segment: byId(301), options: { verify: false, ...options } });

	test('Full Refresh Days 0 means never (stored as no refresh), as its description says', async () => {
		const run = await runner.run(add({ fullRefreshDays: 0 }));
		expect(run.error).toBeUndefined();
		expect(run.main[0].json.full_refresh_days).toBeNull();
		const [row] = await world.stack.query('select full_refresh_days from sync_segments_control where segment_id = 301');
		expect(row).toEqual({ full_refresh_days: null });
	});

	test.each([
		['fullRefreshDays', -3, 'Full Refresh Days must be a whole number from 0 to 3650, got -3'],
		['fullRefreshDays', 1.5, 'Full Refresh Days must be a whole number from 0 to 3650, got 1.5'],
		['maxLeaveShare', 50, 'Max Leave Share must be a number from 0 to 1, got 50'],
		['maxConsecutiveFailures', 0, 'Max Consecutive Failures must be a whole number from 1 to 1000, got 0'],
		['startAt', 'next tuesday', 'Start At is not a date and time, got "next tuesday"'],
	])('%s = %j is refused before anything is written', async (option, value, message) => {
		await world.stack.query('update sync_segments_control set max_leave_share = 0.5, max_consecutive_failures = 5 where segment_id = 301');
		const error = await secondItemRefused(add({ [option]: '={{ $json.value ?? undefined }}' }), value);
		expect(error.message).toBe(message);
		const [row] = await world.stack.query('select max_leave_share::float as share, max_consecutive_failures as failures from sync_segments_control where segment_id = 301');
		expect(row).toEqual({ share: 0.5, failures: 5 });
	});

	test('a schedule more often than once a minute is refused, saying the minimum', async () => {
		const run = await runner.run(add({ schedule: '1 microsecond' }));
		expect(run.error).toBeInstanceOf(NodeOperationError);
		expect(run.error!.context?.itemIndex).toBe(0);
		expect(run.error!.message).toMatch(/runs more often than once a minute\. The shortest schedule is 1 minute/);
		const [row] = await world.stack.query('select schedule from sync_segments_control where segment_id = 301');
		expect(row.schedule).not.toBe('1 microsecond');
	});
});

describe('credentials', () => {
	test('a Supabase Host that is not a URL names the credential field, not an unexpected error', async () => {
		const credentials = credentialsOf(world);
		const run = await runner.run(
			{ resource: 'syncHealth', operation: 'check' },
			{ credentials: { ...credentials, supabaseApi: { host: 'https://my project.supabase.co', serviceRole: world.stack.serviceRoleKey } } },
		);
		expect(run.error).toBeInstanceOf(NodeOperationError);
		expect(run.error!.message).toBe('The Supabase credential’s Host "https://my project.supabase.co" is not a project URL');
		expect(run.error!.description).toMatch(/e\.g\. https:\/\/abcd\.supabase\.co/);
	});
});

describe('run options', () => {
	test('a Throttling Patience that is not a number of minutes', async () => {
		const error = await secondItemRefused({ resource: 'segment', operation: 'sync', segment: byId(301), options: { patienceMinutes: '={{ $json.value ?? 1 }}' } }, 'forever');
		expect(error.message).toBe('Throttling Patience (Minutes) must be a number from 0 to 1440, got "forever"');
	});

	test('Account → Set Rate refuses an empty rate instead of unsetting the account’s rate', async () => {
		const error = await secondItemRefused({ resource: 'account', operation: 'setRate', accountRequestsPerMinute: '={{ $json.value ?? 60 }}', options: {} }, '');
		expect(error.message).toBe('Requests Per Minute is empty');
	});
});

test('no run showed the token or the service key', () => {
	const visible = runner.visible();
	for (const secret of runner.secrets()) expect(visible).not.toContain(secret);
});
