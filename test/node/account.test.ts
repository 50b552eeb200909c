import { budgetAccount } from '../../engine';
import { startSyncWorld, type SyncWorld } from '../support/world';
import { FAST, byId, credentialsOf, NodeRunner } from './support/fixtures';
import { stopN8n } from './support/n8n';

/**
 * Account → Set Rate through a real n8n execution context against the real stack: the account's
 * requests per minute, shared by every process syncing into the database, and a run's own rate only
 * lowering it.
 */
let world: SyncWorld;
let runner: NodeRunner;

beforeAll(async () => {
	world = await startSyncWorld({ segments: [{ id: 151, name: 'Rated', size: 30 }, { id: 152, name: 'Checked', size: 5 }] });
	runner = new NodeRunner(world);
});

afterAll(async () => {
	stopN8n();
	await world?.stop();
});

test('Set Rate stores the account rate (never the token); a Sync takes its calls from that budget; 0 unsets it', async () => {
	const set = await runner.run({ resource: 'account', operation: 'setRate', accountRequestsPerMinute: 6_000 });
	expect(set.error).toBeUndefined();
	const account = budgetAccount(world.sim.baseUrl, world.sim.instance);
	expect(set.main[0].json).toMatchObject({ account_key: account.key, instance: world.sim.instance, requests_per_minute: 6000 });
	expect(JSON.stringify(set.main)).not.toContain(world.sim.token);

	await world.addSegments(151);
	const synced = await runner.run({ resource: 'segment', operation: 'sync', segment: byId(151), options: { ...FAST } });
	expect(synced.error).toBeUndefined();
	expect(synced.main[0].json).toMatchObject({ status: 'success' });
	const [row] = await world.stack.query<{ requests_per_minute: string; granted_total: string }>('select requests_per_minute, granted_total from sync_account_budgets');
	expect(row.requests_per_minute).toBe('6000');
	expect(Number(row.granted_total)).toBeGreaterThanOrEqual(Number(synced.main[0].json.requests));

	const unset = await runner.run({ resource: 'account', operation: 'setRate', accountRequestsPerMinute: 0 });
	expect(unset.main[0].json).toMatchObject({ requests_per_minute: null });
	const bad = await runner.run({ resource: 'account', operation: 'setRate', accountRequestsPerMinute: -5 });
	expect(bad.error?.message).toMatch(/Requests Per Minute must be a number from 0 to 1000000, got -5/);
});

test('with the Supabase credential (Segment → Add) the SprintHub calls come from the account budget; Lead → Get, SprintHub credential only, uses the process budget', async () => {
	const granted = async () => Number((await world.stack.query<{ total: string }>('select coalesce(sum(granted_total), 0) as total from sync_account_budgets'))[0].total);
	const calls = () => world.sim.requests.length;

	// Lead → Get first: no run of this file is left that could still take from the account budget.
	const [id] = world.sim.truth.segmentMemberIds(152);
	const [grantedBeforeGet, callsBeforeGet] = [await granted(), calls()];
	const got = await runner.run({ resource: 'lead', operation: 'get', leadId: String(id) }, { credentials: { sprintHubApi: credentialsOf(world).sprintHubApi } });
	expect(got.error).toBeUndefined();
	expect(calls() - callsBeforeGet).toBe(1);
	// README, "Calls outside the account budget": no database, so not counted there.
	expect(await granted()).toBe(grantedBeforeGet);

	const [grantedBeforeAdd, callsBeforeAdd] = [await granted(), calls()];
	const added = await runner.run({ resource: 'segment', operation: 'add', segment: byId(152) });
	expect(added.error).toBeUndefined();
	expect(added.main[0].json).toMatchObject({ segment_id: 152, segment_name: 'Checked' });
	const addCalls = calls() - callsBeforeAdd;
	expect(addCalls).toBeGreaterThan(0);
	expect((await granted()) - grantedBeforeAdd).toBeGreaterThanOrEqual(addCalls);
});
