import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import { startSyncWorld, type SyncWorld } from '../support/world';
import { byId, credentialsOf, FAST, NodeRunner } from './support/fixtures';
import { stopN8n } from './support/n8n';

/** Lead → Get / Create or Update (upsert) and Sync Health → Check, through a real n8n execution context. */
let world: SyncWorld;
let runner: NodeRunner;
const WRONG_TOKEN = '0f0e0d0c-aaaa-4bbb-accc-999988887777';

beforeAll(async () => {
	world = await startSyncWorld({ segments: [{ id: 201, name: 'Trial users', size: 40 }, { id: 202, name: 'Churned', size: 20 }] });
	runner = new NodeRunner(world);
});

afterAll(async () => {
	stopN8n();
	await world?.stop();
});

describe('Lead → Get', () => {
	test('returns every field of the lead, one item per input item', async () => {
		const [first, second] = world.sim.truth.segmentMemberIds(201);
		const run = await runner.run({ resource: 'lead', operation: 'get', leadId: '={{ $json.id }}' }, { items: [{ id: first }, { id: second }] });
		expect(run.error).toBeUndefined();
		expect(run.main.map((item) => item.json)).toEqual([world.sim.truth.lead(first), world.sim.truth.lead(second)]);
		expect(run.main.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
	});

	test('an unknown lead is a NodeApiError 404; a malformed id a NodeOperationError', async () => {
		const missing = await runner.run({ resource: 'lead', operation: 'get', leadId: '999999999' });
		expect(missing.error).toBeInstanceOf(NodeApiError);
		expect(missing.error!.message).toMatch(/Lead 999999999 does not exist in SprintHub/);
		const malformed = await runner.run({ resource: 'lead', operation: 'get', leadId: '12ab' });
		expect(malformed.error).toBeInstanceOf(NodeOperationError);
		expect(malformed.error!.description).toMatch(/numeric id/);
	});

	test('needs no Supabase credential', async () => {
		const [id] = world.sim.truth.segmentMemberIds(202);
		const credentials = { sprintHubApi: credentialsOf(world).sprintHubApi };
		const run = await runner.run({ resource: 'lead', operation: 'get', leadId: String(id) }, { credentials });
		expect(run.error).toBeUndefined();
		expect(run.main[0].json.id).toBe(id);
	});
});

describe('Lead → Create or Update (upsert)', () => {
	test('webhook bodies are validated and upserted with the sync’s casting rules; bad records are reported, not fatal', async () => {
		const [a, b] = world.sim.truth.segmentMemberIds(201);
		const recordA = world.sim.truth.lead(a)!;
		const recordB = { ...world.sim.truth.lead(b)!, points: 'lots', createDate: 'yesterday' };
		const items = [
			{ body: recordA },
			{ body: { data: { lead: recordB } } },
			{ body: { email: 'no-id@example.com' } },
			{ body: [{ id: 'x1' }, { id: a, city: 'Recife' }] },
		];
		const run = await runner.run({ resource: 'lead', operation: 'upsert', source: 'input', recordField: 'body', options: { complete: true } }, { items });
		expect(run.error).toBeUndefined();
		expect(run.main.map((item) => [item.pairedItem, item.json.id, item.json.status])).toEqual([
			[{ item: 0 }, a, 'duplicate'],
			[{ item: 1 }, b, 'inserted'],
			[{ item: 2 }, null, 'rejected'],
			[{ item: 3 }, 'x1', 'rejected'],
			[{ item: 3 }, a, 'inserted'],
		]);
		expect(run.main[2].json.reason).toMatch(/lead id/);
		expect(run.main[1].json.castProblems).toMatchObject({ points: { value: 'lots', expected: 'integer' }, createDate: { value: 'yesterday', expected: 'timestamptz' } });
		const rows = await world.stack.query<{ id: string; points: number | null; city: string | null; raw: Record<string, unknown> }>(
			'select id::text, points, city, raw from leads where id = any($1) order by id',
			[[a, b]],
		);
		const byLead = new Map(rows.map((row) => [Number(row.id), row]));
		expect(byLead.get(b)!.points).toBeNull();
		expect(byLead.get(b)!.raw.points).toBe('lots');
		expect(byLead.get(a)!.city).toBe('Recife');
		expect(byLead.get(a)!.raw).toEqual({ id: a, city: 'Recife' });

		// The same body again changes nothing; a partial body merges into the stored record.
		const again = await runner.run({ resource: 'lead', operation: 'upsert', source: 'input', recordField: 'body', options: { complete: true } }, { items: [items[1]] });
		expect(again.main[0].json.status).toBe('unchanged');
		// A partial body must say it is newer (updatedDate) than the stored lead, or it is skipped.
		const unmarked = await runner.run({ resource: 'lead', operation: 'upsert', source: 'input' }, { items: [{ id: b, stage: 'Won' }] });
		expect(unmarked.main[0].json).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/no valid updatedDate/) });
		const partial = await runner.run({ resource: 'lead', operation: 'upsert', source: 'input' }, { items: [{ id: b, stage: 'Won', updatedDate: '2099-01-01T00:00:00.000Z' }] });
		expect(partial.main[0].json.status).toBe('updated');
		const [merged] = await world.stack.query<{ stage: string; email: string | null }>('select stage, email from leads where id = $1', [b]);
		expect(merged).toEqual({ stage: 'Won', email: (recordB as Record<string, unknown>).email ?? null });
	});

	test('a missing record field is the item’s error; with continue on fail the others still go through', async () => {
		const [id] = world.sim.truth.segmentMemberIds(202);
		const items = [{ body: { id } }, { other: 1 }];
		const stopped = await runner.run({ resource: 'lead', operation: 'upsert', source: 'input', recordField: 'body' }, { items });
		expect(stopped.error).toBeInstanceOf(NodeOperationError);
		expect(stopped.error!.context?.itemIndex).toBe(1);
		const continued = await runner.run({ resource: 'lead', operation: 'upsert', source: 'input', recordField: 'body' }, { items, onError: 'continueErrorOutput' });
		expect(continued.main.map((item) => [item.json.id, item.pairedItem])).toEqual([[id, { item: 0 }]]);
		expect(continued.errorOutput.map((item) => item.pairedItem)).toEqual([{ item: 1 }]);
		expect(String(continued.errorOutput[0].json.error)).toMatch(/no field "body"/);
	});
});

describe('Sync Health → Check', () => {
	test('emits a segment only when its alert state changes: failing, then recovered', async () => {
		await world.addSegments(201, 202);
		const check = (options: Record<string, unknown> = {}) => runner.run({ resource: 'syncHealth', operation: 'check', options: { maxConsecutiveFailures: 0, ...options } });

		// Healthy and never run: nothing to say.
		expect((await check()).main).toEqual([]);

		// A real failed run (wrong token) makes 201 failing.
		const failed = await runner.run(
			{ resource: 'segment', operation: 'sync', segment: byId(201), options: { ...FAST } },
			{ credentials: credentialsOf(world, { token: WRONG_TOKEN }), onError: 'continueRegularOutput' },
		);
		expect(failed.main[0].json.status).toBe('failed');
		const alert = await check();
		expect(alert.main).toHaveLength(1);
		expect(alert.main[0].json).toMatchObject({ segmentId: 201, event: 'alert', alerts: expect.arrayContaining(['failing']), raised: expect.arrayContaining(['failing']), consecutiveFailures: 1 });
		expect(alert.main[0].json.alerts).toContain('low_success_rate');
		expect(alert.main[0].pairedItem).toEqual({ item: 0 });

		// Nothing changed since: the channel stays quiet, unless unchanged segments are asked for.
		expect((await check()).main).toEqual([]);
		const dashboard = await check({ includeUnchanged: true });
		expect(dashboard.main.map((item) => [item.json.segmentId, item.json.event])).toEqual([
			[201, 'unchanged'],
			[202, 'unchanged'],
		]);

		// Another channel has its own memory.
		expect((await check({ channel: 'email' })).main.map((item) => item.json.segmentId)).toEqual([201]);

		// A successful run clears "failing"; the success rate of the last runs is still low.
		const ok = await runner.run({ resource: 'segment', operation: 'sync', segment: byId(201), options: { ...FAST } });
		expect(ok.main[0].json.status).toBe('success');
		const changed = await check();
		expect(changed.main).toHaveLength(1);
		expect(changed.main[0].json).toMatchObject({ segmentId: 201, event: 'changed', cleared: ['failing'], alerts: ['low_success_rate'] });

		// With a threshold the segment meets, it has recovered.
		const recovered = await check({ minSuccessRate: 50 });
		expect(recovered.main[0].json).toMatchObject({ segmentId: 201, event: 'recovered', alerts: [] });
		expect(String(recovered.main[0].json.message)).toMatch(/recovered/);
	});

	test('slow runs are an alert under the Max Run Minutes threshold', async () => {
		await world.stack.query("update sync_segments_logs set duration_seconds = 900 where segment_id = 201 and status = 'success'");
		const run = await runner.run({ resource: 'syncHealth', operation: 'check', options: { channel: 'slow', minSuccessRate: 0 } });
		expect(run.main.map((item) => [item.json.segmentId, item.json.alerts])).toEqual([[201, ['slow']]]);
	});
});

describe('secrets', () => {
	test('no run showed the token or the service key', () => {
		const visible = runner.visible();
		for (const secret of [...runner.secrets(), WRONG_TOKEN]) expect(visible).not.toContain(secret);
	});
});
