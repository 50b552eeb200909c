import { NodeOperationError, type IDataObject } from 'n8n-workflow';
import { startSyncWorld, type SyncWorld } from '../support/world';
import { NodeRunner } from './support/fixtures';
import { stopN8n } from './support/n8n';

/**
 * Lead → Create or Update in its two modes (fetch from SprintHub, the default; the input record,
 * guarded) and Lead → Check Webhook Request, through a real n8n execution context, real PostgREST
 * and the SprintHub simulator.
 */
let world: SyncWorld;
let runner: NodeRunner;
const WEBHOOK_SECRET = 'whsec-0123456789abcdef0123456789abcdef';

beforeAll(async () => {
	world = await startSyncWorld({ segments: [{ id: 301, name: 'Webhook leads', size: 30 }] });
	runner = new NodeRunner(world);
});

afterAll(async () => {
	stopN8n();
	await world?.stop();
});

const stored = async (ids: number[]) =>
	world.stack.query<{ id: string; raw: Record<string, unknown>; email: string | null; deleted_at: Date | null; change_marker: string | null }>(
		'select id::text, raw, email, deleted_at, change_marker from leads where id = any($1) order by id',
		[ids],
	);
const detailCalls = (id: number) => world.sim.requests.filter((entry) => entry.endpoint === 'leadDetail' && entry.path === `/leads/${id}`).length;

describe('Fetch From SprintHub (the default)', () => {
	test('a forged body names the lead; the stored row is SprintHub’s record with its change marker', async () => {
		const [id] = world.sim.truth.segmentMemberIds(301);
		const forged = { id, email: 'attacker@evil.example', updatedDate: '2099-01-01T00:00:00.000Z' };
		const run = await runner.run({ resource: 'lead', operation: 'upsert', recordField: 'body', options: { coalesceSeconds: 0 } }, { items: [{ body: forged }] });
		expect(run.error).toBeUndefined();
		expect(run.main.map((item) => item.json)).toEqual([expect.objectContaining({ id, status: 'inserted', reason: null, shared: false })]);
		const truth = world.sim.truth.lead(id)!;
		const [row] = await stored([id]);
		expect(row.raw).toEqual(truth);
		expect(row.change_marker).toBe(truth.updatedDate);
		expect(row.email).not.toBe(forged.email);
	});

	test('an id SprintHub does not know writes nothing; a stored lead SprintHub deleted is marked deleted', async () => {
		const [, id] = world.sim.truth.segmentMemberIds(301);
		await runner.run({ resource: 'lead', operation: 'upsert', recordField: 'leadId', options: { coalesceSeconds: 0 } }, { items: [{ leadId: id }] });
		world.sim.mutate.remove([id]);
		const run = await runner.run(
			{ resource: 'lead', operation: 'upsert', recordField: 'leadId', options: { coalesceSeconds: 0 } },
			{ items: [{ leadId: 987_654_321 }, { leadId: String(id) }, { leadId: 'abc' }] },
		);
		expect(run.main.map((item) => [item.json.id, item.json.status])).toEqual([
			[987_654_321, 'notFound'],
			[id, 'deleted'],
			['abc', 'rejected'],
		]);
		expect(await stored([987_654_321])).toEqual([]);
		const [row] = await stored([id]);
		expect(row.deleted_at).toBeInstanceOf(Date);
	});

	test('many items for a few leads cost a bounded number of detail calls', async () => {
		const ids = world.sim.truth.segmentMemberIds(301).slice(5, 10).sort((x, y) => x - y);
		const before = new Map(ids.map((id) => [id, detailCalls(id)]));
		const items = Array.from({ length: 40 }, (_, i) => ({ body: { data: { lead: { id: ids[i % ids.length] } } } }));
		const run = await runner.run({ resource: 'lead', operation: 'upsert', recordField: 'body', options: { coalesceSeconds: 1 } }, { items });
		expect(run.error).toBeUndefined();
		expect(run.main).toHaveLength(40);
		expect(run.main.filter((item) => item.json.shared === false).length).toBeLessThanOrEqual(2 * ids.length);
		for (const id of ids) expect(detailCalls(id) - before.get(id)!).toBeGreaterThanOrEqual(1);
		for (const id of ids) expect(detailCalls(id) - before.get(id)!).toBeLessThanOrEqual(2);
		expect((await stored(ids)).map((row) => row.raw)).toEqual(ids.map((id) => world.sim.truth.lead(id)));
	});

	test('Complete Records and Database Schema are read for each item', async () => {
		const [id] = world.sim.truth.segmentMemberIds(301).slice(12);
		const run = await runner.run(
			{ resource: 'lead', operation: 'upsert', source: 'input', options: { complete: '={{ $json.complete }}' } },
			{
				items: [
					{ id, email: 'first@example.test', updatedDate: '2026-11-01T00:00:00.000Z', complete: true },
					{ id, city: 'Natal', updatedDate: '2026-11-02T00:00:00.000Z', complete: false },
				],
			},
		);
		expect(run.error).toBeUndefined();
		// Different options: separate writes, in item order; the second merged into the first.
		expect(run.main.map((item) => item.json.status)).toEqual(['inserted', 'updated']);
		const [row] = await stored([id]);
		expect(row.raw).toMatchObject({ email: 'first@example.test', city: 'Natal' });
		const perItemSchema = await runner.run(
			{ resource: 'lead', operation: 'upsert', source: 'input', options: { schema: '={{ $json.schema }}' } },
			{ items: [{ id, updatedDate: '2026-11-03T00:00:00.000Z', schema: 'public' }, { id: id + 1, schema: 'no_such_schema' }], onError: 'continueErrorOutput' },
		);
		expect(perItemSchema.main.map((item) => [item.json.id, item.json.status])).toEqual([[id, 'updated']]);
		expect(perItemSchema.errorOutput.map((item) => item.pairedItem)).toEqual([{ item: 1 }]);
	});
});

describe('Use the Input Record (guarded)', () => {
	test('never brings a deleted lead back, never overwrites a newer record, applies a newer one', async () => {
		const [a, b] = world.sim.truth.segmentMemberIds(301).slice(20, 22).sort((x, y) => x - y);
		const upsert = (items: IDataObject[]) => runner.run({ resource: 'lead', operation: 'upsert', source: 'input', options: { complete: true } }, { items });
		await upsert([
			{ id: a, email: 'a@example.test', updatedDate: '2026-11-10T00:00:00.000Z' },
			{ id: b, email: 'b@example.test', updatedDate: '2026-11-10T00:00:00.000Z' },
		]);
		await world.stack.query('update leads set deleted_at = now() where id = $1', [a]);
		const run = await upsert([
			{ id: a, email: 'revived@example.test', updatedDate: '2026-11-20T00:00:00.000Z' },
			{ id: b, email: 'older@example.test', updatedDate: '2026-11-09T00:00:00.000Z' },
			{ id: b, email: 'newer@example.test', updatedDate: '2026-11-11T00:00:00.000Z' },
		]);
		expect(run.main.map((item) => [item.json.id, item.json.status])).toEqual([
			[a, 'skipped'],
			[b, 'skipped'],
			[b, 'updated'],
		]);
		expect(String(run.main[0].json.reason)).toMatch(/marked deleted/);
		const stale = await upsert([{ id: b, email: 'older@example.test', updatedDate: '2026-11-09T00:00:00.000Z' }]);
		expect(stale.main[0].json).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/stored lead is newer/) });
		expect((await stored([a, b])).map((row) => [row.email, row.deleted_at !== null])).toEqual([
			['a@example.test', true],
			['newer@example.test', false],
		]);
	});
});

describe('an AI agent cannot widen what the user allowed', () => {
	test('Record Source is never an expression: n8n keeps the user’s choice (default: fetch)', async () => {
		const id = 987_000_001;
		const run = await runner.run(
			{ resource: 'lead', operation: 'upsert', source: "={{ $fromAI('source', 'fetch or input') }}" },
			{ items: [{ id, email: 'agent@example.test' }] },
		);
		if (!run.error) expect(run.main.map((item) => [item.json.id, item.json.status, item.json.shared])).toEqual([[id, 'notFound', false]]);
		else expect(run.error.message).toMatch(/Record Source cannot be an expression/);
		expect(await stored([id])).toEqual([]);
	});

	test('Complete Records and Database Schema cannot be left to $fromAI', async () => {
		const [id] = world.sim.truth.segmentMemberIds(301);
		for (const parameters of [
			{ source: 'fetch', options: { schema: "={{ $fromAI('schema') }}" } },
			{ source: 'input', options: { complete: "={{ $fromAI('complete', '', 'boolean') }}" } },
		]) {
			const run = await runner.run({ resource: 'lead', operation: 'upsert', ...parameters }, { items: [{ id, email: 'agent@example.test' }] });
			expect(run.error).toBeInstanceOf(NodeOperationError);
			expect(run.error!.message).toMatch(/Record Source cannot be an expression|cannot be left to an AI agent/);
		}
		expect((await stored([id]))[0]?.email).not.toBe('agent@example.test');
	});
});

describe('Lead → Check Webhook Request', () => {
	const json = { 'content-type': 'application/json' };
	const check = (items: IDataObject[], parameters: IDataObject = {}) =>
		runner.run(
			{ resource: 'lead', operation: 'checkWebhook', ...parameters },
			{ items, credentials: { httpHeaderAuth: { name: 'X-SprintHub-Secret', value: WEBHOOK_SECRET } } },
		);

	test('bad bodies get a 4xx verdict naming what to fix; a good one names the lead', async () => {
		const run = await check([
			{ headers: json, body: { id: 12 } },
			{ headers: json, body: { data: { lead: { id: '13' } } } },
			{ headers: json, body: { email: 'x@example.test' } },
			{ headers: json, body: { id: 1.5 } },
			{ headers: json, body: { id: '12ab' } },
			{ headers: json, body: [{ id: 12 }] },
			{ headers: { ...json, 'content-length': String(2 * 1024 * 1024) }, body: { id: 12 } },
			{ headers: { 'content-type': 'text/plain' }, body: { id: 12 } },
			{ headers: {}, body: { id: 12 } },
		]);
		expect(run.main.map((item) => [item.json.accepted, item.json.statusCode, item.json.leadId ?? null])).toEqual([
			[true, 202, 12],
			[true, 202, 13],
			[false, 400, null],
			[false, 400, null],
			[false, 400, null],
			[false, 400, null],
			[false, 413, null],
			[false, 415, null],
			[false, 415, null],
		]);
		expect(run.main[2].json.message).toMatch(/no lead id/);
		expect(run.main[5].json.message).toMatch(/array/);
	});

	test('URL secret: compared with the Header Auth credential’s value; the secret is passed on nowhere', async () => {
		const query = (secret?: string) => ({ headers: json, query: secret === undefined ? {} : { secret }, body: { id: 14 } });
		const run = await check([query(WEBHOOK_SECRET), query('wrong'), query(), query(`${WEBHOOK_SECRET}x`)], { senderCheck: 'query' });
		expect(run.main.map((item) => item.json.statusCode)).toEqual([202, 401, 401, 401]);
		expect(JSON.stringify(run.main)).not.toContain(WEBHOOK_SECRET);
		expect(run.logs.map((line) => JSON.stringify(line)).join('\n')).not.toContain(WEBHOOK_SECRET);
	});

	test('a short secret in the credential is refused with what to do', async () => {
		const run = await runner.run(
			{ resource: 'lead', operation: 'checkWebhook', senderCheck: 'query' },
			{ items: [{ headers: json, query: { secret: 'short' }, body: { id: 1 } }], credentials: { httpHeaderAuth: { name: 'X', value: 'short' } } },
		);
		expect(run.error).toBeInstanceOf(NodeOperationError);
		expect(run.error!.description).toMatch(/openssl rand/);
	});
});

describe('secrets', () => {
	test('no run showed the token, the service key or the webhook secret', () => {
		const visible = runner.visible();
		for (const secret of [...runner.secrets(), WEBHOOK_SECRET]) expect(visible).not.toContain(secret);
	});
});
