import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import { startSyncWorld, truthMemberIds, type SyncWorld } from '../support/world';
import { byId, credentialsOf, FAST, NodeRunner } from './support/fixtures';
import { stopN8n } from './support/n8n';

/**
 * The Segment operations through a real n8n execution context (n8n-core's ExecuteContext) against
 * the real stack: SprintHub simulator, Postgres, PostgREST.
 */
let world: SyncWorld;
let runner: NodeRunner;
const WRONG_TOKEN = '0f0e0d0c-aaaa-4bbb-accc-000011112222';

beforeAll(async () => {
	world = await startSyncWorld({
		segments: [
			{ id: 101, name: 'Hot leads', size: 120 },
			{ id: 102, name: 'Cold leads', size: 40 },
			{ id: 103, name: 'Webinar', size: 30 },
			{ id: 104, name: 'Big list', size: 400 },
		],
	});
	runner = new NodeRunner(world);
});

afterAll(async () => {
	stopN8n();
	await world?.stop();
});

const members = (segmentId: number) => world.memberIds(segmentId);

describe('Segment → Add / Sync', () => {
	test('Add registers a segment under its SprintHub name; Sync then loads exactly its members', async () => {
		const added = await runner.run({ resource: 'segment', operation: 'add', segment: byId(101), options: { schedule: '0 6 * * *' } });
		expect(added.error).toBeUndefined();
		expect(added.main).toHaveLength(1);
		expect(added.main[0].json).toMatchObject({ segment_id: 101, segment_name: 'Hot leads', status: 'active', schedule: '0 6 * * *' });
		expect(added.main[0].pairedItem).toEqual({ item: 0 });

		const synced = await runner.run({ resource: 'segment', operation: 'sync', segment: byId(101), options: { ...FAST } });
		expect(synced.error).toBeUndefined();
		expect(synced.main).toHaveLength(1);
		const summary = synced.main[0].json;
		const truth = truthMemberIds(world.sim, 101);
		expect(summary).toMatchObject({ segmentId: 101, segmentName: 'Hot leads', status: 'success', inserted: truth.length, leadsSeen: truth.length, complete: true });
		expect(summary.requests).toBeGreaterThan(0);
		expect(typeof summary.durationMs).toBe('number');
		expect(synced.main[0].pairedItem).toEqual({ item: 0 });
		expect(await members(101)).toEqual(truth);
		// Progress went to n8n's log and, in a manual run, to the editor.
		expect(synced.logs.some((line) => line.level === 'info' && /segment 101: success/.test(line.message))).toBe(true);
		expect(synced.uiMessages.some((m) => JSON.stringify(m).includes('segment 101'))).toBe(true);
	});

	test('Sync takes ids per input item (expression) and several ids per item, one summary per segment, paired to its item', async () => {
		await world.addSegments(102, 103);
		const run = await runner.run(
			{ resource: 'segment', operation: 'sync', segment: { __rl: true, mode: 'id', value: '={{ $json.ids }}' }, options: { ...FAST } },
			{ items: [{ ids: '102' }, { ids: '103, 101' }], mode: 'trigger' },
		);
		expect(run.error).toBeUndefined();
		expect(run.main.map((item) => [item.json.segmentId, item.pairedItem])).toEqual([
			[102, { item: 0 }],
			[103, { item: 1 }],
			[101, { item: 1 }],
		]);
		expect(run.main.every((item) => item.json.status === 'success')).toBe(true);
		// Never one item per lead.
		expect(run.main).toHaveLength(3);
		expect(await members(102)).toEqual(truthMemberIds(world.sim, 102));
		expect(await members(103)).toEqual(truthMemberIds(world.sim, 103));
		// Not a manual run: nothing is sent to the editor.
		expect(run.uiMessages).toEqual([]);
	});

	test('Dry run reports what would change and writes nothing', async () => {
		const changed = world.sim.mutate.change({ segmentId: 102, count: 3 });
		const before = await world.stack.query<{ n: string }>('select count(*)::text as n from sync_segments_logs');
		const run = await runner.run({ resource: 'segment', operation: 'sync', segment: byId(102), options: { ...FAST, dryRun: true } });
		expect(run.main[0].json).toMatchObject({ segmentId: 102, dryRun: true, updated: changed.length, runId: null });
		const after = await world.stack.query<{ n: string }>('select count(*)::text as n from sync_segments_logs');
		expect(after[0].n).toBe(before[0].n);
	});

	test('Sync Due syncs only the segments whose time has come', async () => {
		await runner.run({ resource: 'segment', operation: 'runNow', segment: byId(102) });
		const run = await runner.run({ resource: 'segment', operation: 'syncDue', options: { ...FAST, maxSegments: 10 } });
		expect(run.error).toBeUndefined();
		expect(run.main.map((item) => item.json.segmentId)).toEqual([102]);
		expect(run.main[0].json).toMatchObject({ status: 'success', updated: 3 });
		const again = await runner.run({ resource: 'segment', operation: 'syncDue', options: { ...FAST } });
		// Nothing due: one item that says so and names the segment due next, so the next node still runs.
		expect(again.main).toHaveLength(1);
		expect(again.main[0].json).toMatchObject({ status: 'nothing_due', segmentsDue: 0 });
		const [next] = await world.stack.query<{ segment_id: string; next_execution: Date }>(
			"select segment_id, next_execution from sync_segments_control where status = 'active' order by next_execution, segment_id limit 1",
		);
		expect(again.main[0].json).toMatchObject({ nextSegmentId: Number(next.segment_id), nextExecution: next.next_execution.toISOString() });
		expect(String(again.main[0].json.message)).toMatch(new RegExp(`^No segment is due\\. Next: .+ \\(${next.segment_id}\\) at ${next.next_execution.toISOString()}\\.$`));
		// The run ledger tells a run started by hand from one the Schedule Trigger started.
		const [manual] = await world.stack.query<{ trigger: string }>('select trigger from sync_segments_logs where run_id = $1', [run.main[0].json.runId]);
		expect(manual.trigger).toBe('manual');
		await runner.run({ resource: 'segment', operation: 'runNow', segment: byId(102) });
		const scheduled = await runner.run({ resource: 'segment', operation: 'syncDue', options: { ...FAST } }, { mode: 'trigger' });
		const [fromSchedule] = await world.stack.query<{ trigger: string }>('select trigger from sync_segments_logs where run_id = $1', [scheduled.main[0].json.runId]);
		expect(fromSchedule.trigger).toBe('schedule');
	});
});

describe('Segment → Pause / Resume / Reschedule / Run Now', () => {
	test('each changes sync_segments_control and returns the row', async () => {
		const paused = await runner.run({ resource: 'segment', operation: 'pause', segment: byId(103) });
		expect(paused.main[0].json).toMatchObject({ segment_id: 103, status: 'paused' });
		const skipped = await runner.run({ resource: 'segment', operation: 'sync', segment: byId(103), options: { ...FAST } });
		expect(skipped.main[0].json).toMatchObject({ segmentId: 103, status: 'skipped' });
		expect(String(skipped.main[0].json.message)).toMatch(/paused/);

		const resumed = await runner.run({ resource: 'segment', operation: 'resume', segment: byId(103) });
		expect(resumed.main[0].json).toMatchObject({ segment_id: 103, status: 'active' });

		const rescheduled = await runner.run({ resource: 'segment', operation: 'reschedule', segment: byId(103), schedule: '6 hours', options: { timezone: 'America/Sao_Paulo' } });
		expect(rescheduled.main[0].json).toMatchObject({ segment_id: 103, schedule: '6 hours', schedule_timezone: 'America/Sao_Paulo' });
		expect(Date.parse(String(rescheduled.main[0].json.next_execution))).toBeGreaterThan(Date.now() + 5 * 3600_000);

		const due = await runner.run({ resource: 'segment', operation: 'runNow', segment: byId(103) });
		expect(Date.parse(String(due.main[0].json.next_execution))).toBeLessThanOrEqual(Date.now() + 1000);
		const [row] = await world.stack.query<{ status: string; schedule: string }>('select status, schedule from sync_segments_control where segment_id = 103');
		expect(row).toEqual({ status: 'active', schedule: '6 hours' });
	});

	test('a schedule the database refuses is a parameter error naming the item', async () => {
		const run = await runner.run({ resource: 'segment', operation: 'reschedule', segment: byId(103), schedule: 'every blue moon' });
		expect(run.error).toBeInstanceOf(NodeOperationError);
		expect(run.error!.context?.itemIndex).toBe(0);
	});
});

describe('Segment → Get Leads / Get Many', () => {
	test('Get Leads honours Limit and Return All, with and without details', async () => {
		const limited = await runner.run({ resource: 'segment', operation: 'getLeads', segment: byId(101), returnAll: false, limit: 7, options: { ...FAST } });
		expect(limited.main).toHaveLength(7);
		// In SprintHub's order (createDate ascending), as the segment endpoint lists them.
		const truth = world.sim.truth.segmentMemberIds(101);
		expect(limited.main.map((item) => item.json.id)).toEqual(truth.slice(0, 7));
		expect(limited.main.every((item) => JSON.stringify(item.pairedItem) === '{"item":0}')).toBe(true);

		const all = await runner.run({ resource: 'segment', operation: 'getLeads', segment: byId(101), returnAll: true, options: { ...FAST } });
		expect(all.main.map((item) => item.json.id)).toEqual(truth);

		const detailed = await runner.run({ resource: 'segment', operation: 'getLeads', segment: byId(101), returnAll: false, limit: 3, options: { ...FAST, includeDetails: true } });
		const custom = world.sim.truth.customFieldAliases();
		expect(detailed.main).toHaveLength(3);
		for (const item of detailed.main) {
			expect(item.json).toEqual(world.sim.truth.lead(Number(item.json.id)));
			expect(Object.keys(item.json).some((key) => custom.includes(key))).toBe(true);
		}
	});

	test('Get Many lists the account’s segments, with a name filter', async () => {
		const all = await runner.run({ resource: 'segment', operation: 'getMany', returnAll: true });
		expect(all.main.map((item) => item.json.id)).toEqual([101, 102, 103, 104]);
		const filtered = await runner.run({ resource: 'segment', operation: 'getMany', returnAll: true, filters: { search: 'cold' } });
		expect(filtered.main.map((item) => item.json.name)).toEqual(['Cold leads']);
		const limited = await runner.run({ resource: 'segment', operation: 'getMany', returnAll: false, limit: 2 });
		expect(limited.main).toHaveLength(2);
	});
});

describe('errors', () => {
	test('a wrong token is a NodeApiError that says to fix the token, and the token is nowhere', async () => {
		const run = await runner.run(
			{ resource: 'segment', operation: 'sync', segment: byId(101), options: { ...FAST } },
			{ credentials: credentialsOf(world, { token: WRONG_TOKEN }) },
		);
		expect(run.error).toBeInstanceOf(NodeApiError);
		expect(run.error!.message).toMatch(/token/i);
		expect(run.error!.description).toMatch(/API token/);
		expect(run.error!.context?.itemIndex).toBe(0);
		expect(JSON.stringify({ m: run.error!.message, d: run.error!.description, s: run.error!.stack })).not.toContain(WRONG_TOKEN);
	});

	test('a wrong instance is a NodeApiError that names the instance setting', async () => {
		const run = await runner.run({ resource: 'segment', operation: 'getMany', returnAll: true }, { credentials: credentialsOf(world, { instance: 'nosuchco' }) });
		expect(run.error).toBeInstanceOf(NodeApiError);
		expect(run.error!.description).toMatch(/Instance/);
	});

	test('an unregistered segment and an unknown SprintHub segment say what to do', async () => {
		const unregistered = await runner.run({ resource: 'segment', operation: 'sync', segment: byId(104), options: { ...FAST } });
		expect(unregistered.error).toBeInstanceOf(NodeOperationError);
		expect(unregistered.error!.message).toMatch(/not in sync_segments_control/);
		expect(unregistered.error!.description).toMatch(/sync_add_segment\(104\)/);

		const unknown = await runner.run({ resource: 'segment', operation: 'getLeads', segment: byId(999), returnAll: true, options: { ...FAST } });
		expect(unknown.error).toBeInstanceOf(NodeApiError);
		expect(unknown.error!.description).toMatch(/no segment with this id/);

		const notInSprintHub = await runner.run({ resource: 'segment', operation: 'add', segment: byId(999) });
		expect(notInSprintHub.error).toBeInstanceOf(NodeApiError);
		expect(notInSprintHub.error!.message).toMatch(/Segment 999 does not exist in SprintHub/);
	});

	test('a malformed id is a NodeOperationError with the item index', async () => {
		const run = await runner.run(
			{ resource: 'segment', operation: 'pause', segment: { __rl: true, mode: 'id', value: '={{ $json.id }}' } },
			{ items: [{ id: '101' }, { id: 'abc' }] },
		);
		expect(run.error).toBeInstanceOf(NodeOperationError);
		expect(run.error!.message).toMatch(/"abc" is not a segment id/);
		expect(run.error!.context?.itemIndex).toBe(1);
	});

	test('continue on fail: error output gets the failing item, paired; regular output keeps it in line', async () => {
		const parameters = { resource: 'segment', operation: 'resume', segment: { __rl: true, mode: 'id', value: '={{ $json.id }}' } };
		const items = [{ id: '101' }, { id: 'abc' }, { id: '102' }];
		const errorOutput = await runner.run(parameters, { items, onError: 'continueErrorOutput' });
		expect(errorOutput.error).toBeUndefined();
		expect(errorOutput.main.map((item) => [item.json.segment_id, item.pairedItem])).toEqual([
			[101, { item: 0 }],
			[102, { item: 2 }],
		]);
		expect(errorOutput.errorOutput).toHaveLength(1);
		expect(errorOutput.errorOutput[0].pairedItem).toEqual({ item: 1 });
		expect(String(errorOutput.errorOutput[0].json.error)).toMatch(/"abc" is not a segment id/);

		const regular = await runner.run(parameters, { items, onError: 'continueRegularOutput' });
		expect(regular.main.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		expect(regular.main[1].json.error).toMatch(/not a segment id/);
	});

	test('continue on fail with a failed sync: the summary goes to the error output with the error', async () => {
		const run = await runner.run(
			{ resource: 'segment', operation: 'sync', segment: byId('101,102'), options: { ...FAST } },
			{ credentials: credentialsOf(world, { token: WRONG_TOKEN }), onError: 'continueErrorOutput' },
		);
		expect(run.error).toBeUndefined();
		expect(run.main).toEqual([]);
		expect(run.errorOutput.map((item) => [item.json.segmentId, item.json.status, item.pairedItem])).toEqual([
			[101, 'failed', { item: 0 }],
			[102, 'failed', { item: 0 }],
		]);
		expect(String(run.errorOutput[0].json.error)).toMatch(/token/i);
		const logged = await world.stack.query<{ status: string }>("select status from sync_segments_logs where segment_id = 101 order by execution_time desc limit 1");
		expect(logged[0].status).toBe('failed');
	});
});

describe('cancellation', () => {
	test('stopping the execution stops the sync promptly and records it as cancelled', async () => {
		await world.addSegments(104);
		world.sim.setLatency(40);
		const controller = new AbortController();
		const started = Date.now();
		const pending = runner.run(
			{ resource: 'segment', operation: 'sync', segment: byId(104), options: { ...FAST, enrichment: 'all', detailConcurrency: 2 } },
			{ signal: controller.signal },
		);
		setTimeout(() => controller.abort(), 600);
		const run = await pending;
		world.sim.setLatency(0);
		expect(Date.now() - started).toBeLessThan(10_000);
		expect(run.main[0].json).toMatchObject({ segmentId: 104, status: 'cancelled' });
		const [log] = await world.stack.query<{ status: string }>('select status from sync_segments_logs where segment_id = 104 order by execution_time desc limit 1');
		expect(log.status).toBe('cancelled');
		const [control] = await world.stack.query<{ lease_owner: string | null }>('select lease_owner from sync_segments_control where segment_id = 104');
		expect(control.lease_owner).toBeNull();
	});
});

describe('secrets', () => {
	test('no output item, error, log line or UI message of any run shows the token or the service key', () => {
		expect(runner.runs.length).toBeGreaterThan(15);
		const visible = runner.visible();
		expect(visible.length).toBeGreaterThan(1000);
		for (const secret of [...runner.secrets(), WRONG_TOKEN]) expect(visible).not.toContain(secret);
	});
});
