import { Client } from 'pg';
import { startStack, type Stack } from '../support/stack';
import { SyncStore, StoreError, type PageLead } from '../../engine/store';

/** The sync state machine through real PostgREST and supabase-js, as the engine drives it. */

let stack: Stack;
let store: SyncStore;
let otherWorkerStore: SyncStore;
let nextSegment = 1000;

beforeAll(async () => {
	stack = await startStack();
	store = SyncStore.connect({ url: stack.supabaseUrl, serviceRoleKey: stack.serviceRoleKey });
	otherWorkerStore = SyncStore.connect({ url: stack.supabaseUrl, serviceRoleKey: stack.serviceRoleKey });
});
afterAll(async () => {
	await stack?.stop();
});

async function newSegment(options: Parameters<SyncStore['addSegment']>[1] = {}): Promise<number> {
	const segmentId = nextSegment++;
	await store.addSegment(segmentId, { name: `Segment ${segmentId}`, schedule: '1 hour', ...options });
	return segmentId;
}

async function claimOne(segmentId: number, worker = 'worker-a', leaseSeconds?: number): Promise<string> {
	const [row] = await store.claim({ worker, segmentIds: [segmentId], trigger: 'manual', leaseSeconds });
	expect(row.outcome).toBe('claimed');
	return row.run_id!;
}

function detail(id: number, updated = '2026-11-01T10:00:00.000Z', extra: Record<string, unknown> = {}): PageLead {
	return {
		record: { id, fullname: `Lead ${id}`, email: `lead${id}@example.com`, updatedDate: updated, createDate: '2025-01-01T00:00:00.000Z', points: id % 50, ...extra },
		enriched: true,
	};
}

const page = (ids: number[], updated?: string) => ids.map((id) => detail(id, updated));
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

describe('claim', () => {
	test('two concurrent claims of one segment: exactly one wins, the other is told it is busy', async () => {
		for (let round = 0; round < 5; round++) {
			const segmentId = await newSegment();
			const [a, b] = await Promise.all([
				store.claim({ worker: 'worker-a', segmentIds: [segmentId], trigger: 'manual' }),
				otherWorkerStore.claim({ worker: 'worker-b', segmentIds: [segmentId], trigger: 'manual' }),
			]);
			const outcomes = [a[0].outcome, b[0].outcome].sort();
			expect(outcomes).toEqual(['busy', 'claimed']);
			const logs = await stack.query(`select status from sync_segments_logs where segment_id = $1`, [segmentId]);
			expect(logs).toEqual([{ status: 'running' }]);
		}
	});

	test('due claims from two workers share the due segments without overlap', async () => {
		const ids = [await newSegment(), await newSegment(), await newSegment(), await newSegment()];
		// Only these four are due: push every other segment into the future.
		await stack.query(`update sync_segments_control set next_execution = now() + interval '1 day' where not segment_id = any($1)`, [ids]);
		const [a, b] = await Promise.all([store.claim({ worker: 'worker-a', limit: 3 }), otherWorkerStore.claim({ worker: 'worker-b', limit: 3 })]);
		const claimed = [...a, ...b].filter((row) => row.outcome === 'claimed').map((row) => row.segment_id);
		expect(claimed.sort()).toEqual([...ids].sort());
		// Already held: a third worker finds them busy, not due again.
		const third = await store.claim({ worker: 'worker-c', limit: 10 });
		expect(third.filter((row) => row.outcome === 'claimed')).toEqual([]);
		expect(third.filter((row) => ids.includes(row.segment_id)).every((row) => row.outcome === 'busy')).toBe(true);
		for (const row of [...a, ...b]) if (row.run_id) await store.finish(row.run_id, { status: 'skipped' });
	});

	test('unknown and paused segments are reported, not claimed', async () => {
		const paused = await newSegment();
		await store.pauseSegment(paused);
		const rows = await store.claim({ worker: 'worker-a', segmentIds: [paused, 987654321], trigger: 'manual' });
		expect(rows.map((row) => [row.segment_id, row.outcome])).toEqual([
			[paused, 'paused'],
			[987654321, 'unknown'],
		]);
	});

	test('an expired lease is taken over and the old holder can no longer heartbeat, write or finish', async () => {
		const segmentId = await newSegment();
		const oldRun = await claimOne(segmentId, 'worker-a', 300);
		await store.applyPage(oldRun, page([1, 2]), { checkpoint: { page: 1 }, pageKey: 0 });
		// Still held while the lease runs: the other worker is told busy.
		expect((await otherWorkerStore.claim({ worker: 'worker-b', segmentIds: [segmentId], trigger: 'manual' }))[0].outcome).toBe('busy');
		// The holder stalls past its lease (set in SQL, not raced against a timer on a loaded machine).
		await stack.query(`update sync_segments_control set lease_expires_at = now() - interval '1 second' where segment_id = $1`, [segmentId]);
		const [takeover] = await otherWorkerStore.claim({ worker: 'worker-b', segmentIds: [segmentId], trigger: 'manual' });
		expect(takeover.outcome).toBe('claimed');
		expect(takeover.resumed_from).toBe(oldRun);
		expect(takeover.checkpoint).toEqual({ page: 1 });

		const heartbeat = await store.heartbeat(oldRun).catch((error: unknown) => error);
		expect(heartbeat).toBeInstanceOf(StoreError);
		expect((heartbeat as StoreError).kind).toBe('lease_lost');
		expect((heartbeat as StoreError).message).toContain('worker-b');
		const write = await store.applyPage(oldRun, page([99])).catch((error: unknown) => error);
		expect((write as StoreError).kind).toBe('lease_lost');
		expect(await stack.query('select id from leads where id = 99')).toEqual([]);
		expect(((await store.finish(oldRun, { status: 'success' }).catch((error: unknown) => error)) as StoreError).kind).toBe('lease_lost');

		const [oldLog] = await stack.query(`select status, error_class, message from sync_segments_logs where run_id = $1`, [oldRun]);
		expect(oldLog).toMatchObject({ status: 'failed', error_class: 'system' });
		expect(String(oldLog.message)).toContain('taken over by worker worker-b');
		// The new holder's heartbeat works and extends the lease.
		const expiry = await otherWorkerStore.heartbeat(takeover.run_id!, 60);
		expect(new Date(expiry).getTime()).toBeGreaterThan(Date.now() + 50_000);
	});
});

describe('apply page', () => {
	test('a crash between pages resumes from the checkpoint with nothing lost or doubled', async () => {
		const segmentId = await newSegment();
		const pages = [range(5000, 40), range(5040, 40), range(5080, 40), range(5120, 25)];
		const crashed = await claimOne(segmentId, 'worker-a', 300);
		await store.applyPage(crashed, page(pages[0]), { checkpoint: { page: 1 }, pageKey: 0 });
		await store.applyPage(crashed, page(pages[1]), { checkpoint: { page: 2 }, pageKey: 1 });
		// The process dies here: no finish, the lease runs out (set in SQL rather than waited for).
		await stack.query(`update sync_segments_control set lease_expires_at = now() - interval '1 second' where segment_id = $1`, [segmentId]);

		const [resumed] = await store.claim({ worker: 'worker-b', segmentIds: [segmentId], trigger: 'manual' });
		expect(resumed.checkpoint).toEqual({ page: 2 });
		const startPage = (resumed.checkpoint as { page: number }).page;
		let inserted = 0;
		for (let p = startPage; p < pages.length; p++) {
			const result = await store.applyPage(resumed.run_id!, page(pages[p]), { checkpoint: { page: p + 1 }, pageKey: p });
			inserted += result.inserted;
		}
		const finish = await store.finish(resumed.run_id!, { status: 'success', complete: true });
		expect(finish.status).toBe('success');
		expect(finish.left).toBe(0);
		expect(inserted).toBe(65);

		const [counts] = await stack.query(
			`select count(*)::int as members, count(distinct lead_id)::int as distinct_members, count(*) filter (where left_at is not null)::int as left
			 from sync_segment_leads where segment_id = $1`,
			[segmentId],
		);
		expect(counts).toEqual({ members: 145, distinct_members: 145, left: 0 });
		const [leads] = await stack.query(`select count(*)::int as n from leads where id between 5000 and 5144`);
		expect(leads.n).toBe(145);
		const [control] = await store.listControl([segmentId]);
		expect(control.checkpoint).toBeNull();
		expect(control.lease_run_id).toBeNull();
		const runs = await store.recentRuns({ segmentId });
		expect(runs.map((run) => run.status)).toEqual(['success', 'failed']);
		expect(runs[0].stats).toMatchObject({ pages: 2, leads_seen: 65, inserted: 65 });
	});

	test('the same page applied twice counts as unchanged and rewrites nothing', async () => {
		const segmentId = await newSegment();
		const runId = await claimOne(segmentId);
		const leads = page(range(7000, 30));
		// The engine sends the checkpoint with the last call of a list page: that call counts the page.
		const first = await store.applyPage(runId, leads, { pageKey: 0, checkpoint: { nextPage: 1 } });
		expect(first).toMatchObject({ seen: 30, inserted: 30, updated: 0, unchanged: 0, joined: 30, repeated: false });
		const before = await stack.query(`select id, xmin::text as xmin, written_at from leads where id between 7000 and 7029 order by id`);

		const again = await store.applyPage(runId, leads, { pageKey: 0, checkpoint: { nextPage: 1 } });
		expect(again).toMatchObject({ seen: 30, inserted: 0, updated: 0, unchanged: 30, joined: 0, repeated: true });
		// Without a page key too (a different call site): still unchanged.
		expect(await store.applyPage(runId, leads)).toMatchObject({ inserted: 0, updated: 0, unchanged: 30 });
		const after = await stack.query(`select id, xmin::text as xmin, written_at from leads where id between 7000 and 7029 order by id`);
		expect(after).toEqual(before);

		// A changed lead is updated, the rest untouched.
		const changed = page(range(7000, 30));
		changed[3] = detail(7003, '2026-11-02T10:00:00.000Z', { city: 'Recife' });
		expect(await store.applyPage(runId, changed)).toMatchObject({ inserted: 0, updated: 1, unchanged: 29 });
		const [lead] = await stack.query(`select city, change_marker from leads where id = 7003`);
		expect(lead).toEqual({ city: 'Recife', change_marker: '2026-11-02T10:00:00.000Z' });

		const finish = await store.finish(runId, { status: 'success', complete: true, stats: { requests: 4, detail_calls: 31 } });
		// The repeated page (same key) was not counted twice.
		expect(finish.stats).toMatchObject({ pages: 3, leads_seen: 90, inserted: 30, updated: 1, unchanged: 59, requests: 4, detail_calls: 31 });
	});

	test('markers tell the engine what it already has; a list record is merged, a detail record replaces', async () => {
		const segmentId = await newSegment();
		const runId = await claimOne(segmentId);
		await store.applyPage(runId, [detail(8001, '2026-10-01T00:00:00.000Z', { cpf: '123' }), { record: { id: 8002, fullname: 'Only listed', owner: { completName: 'Maria' } }, marker: 'm-1' }]);
		const markers = await store.markers([8001, 8002, 8003]);
		expect([...markers.keys()].sort()).toEqual([8001, 8002]);
		expect(markers.get(8001)).toMatchObject({ change_marker: '2026-10-01T00:00:00.000Z' });
		expect(markers.get(8001)!.enriched_at).not.toBeNull();
		expect(markers.get(8002)).toMatchObject({ change_marker: 'm-1', enriched_at: null });

		// Seen only (no record): membership, no write; the lead counts as unchanged.
		expect(await store.applyPage(runId, [{ id: 8001, marker: '2026-10-01T00:00:00.000Z' }])).toMatchObject({ seen: 1, inserted: 0, updated: 0, unchanged: 1 });
		// A list record merges into the stored detail record: custom fields kept.
		await store.applyPage(runId, [{ record: { id: 8001, fullname: 'Renamed' }, marker: '2026-10-02T00:00:00.000Z' }]);
		const [merged] = await stack.query(`select fullname, raw->>'cpf' as cpf, owner_name from leads where id = 8001`);
		expect(merged).toEqual({ fullname: 'Renamed', cpf: '123', owner_name: null });
		// The owner object of a list record gives the owner's name.
		expect((await stack.query(`select owner_name from leads where id = 8002`))[0]).toEqual({ owner_name: 'Maria' });
		await store.finish(runId, { status: 'success' });
	});

	test('wild values are cast or recorded, never fatal', async () => {
		const segmentId = await newSegment();
		const runId = await claimOne(segmentId);
		const result = await store.applyPage(runId, [
			{
				record: {
					id: '9001',
					firstname: 'Ana',
					lastname: '',
					email: ['a@example.com'],
					phone: 5511999990000,
					points: '42',
					owner: '17',
					archived: 'sim',
					createDate: '2024-02-31T10:00:00.000Z',
					updatedDate: '2026-11-01T10:00:00.123Z',
					lastActive: 'ontem',
					createdBy: 'api',
					createdByUtm: [{ source: 'x' }],
					data_de_nascimento: '1990-05-01',
				},
				enriched: true,
			},
			{ record: { id: 9002, points: '12.5', owner: { completName: 'Bob' }, archived: 1, createDate: '', lastActive: null, createdBy: 33 }, enriched: true },
			{ record: { id: 9003, points: 'muitos', owner: 'ninguém', archived: 'talvez', updatedDate: 12345 } },
			{ record: { id: 'abc', fullname: 'no usable id' } },
			{ record: { fullname: 'no id at all' } },
			{ id: -4 },
			'not an object' as unknown as PageLead,
			{ record: 'not an object' as unknown as Record<string, unknown> },
		]);
		expect(result).toMatchObject({ seen: 3, inserted: 3 });
		expect(result.rejected.map((r) => r.index)).toEqual([3, 4, 5, 6, 7]);
		expect(result.rejected[0].reason).toContain('lead id');

		const rows = await stack.query(
			`select id, firstname, lastname, fullname, email, phone, points, owner_id, owner_name, archived, create_date, updated_date, last_active, created_by,
				raw, cast_problems from leads where id between 9001 and 9003 order by id`,
		);
		expect(rows[0]).toMatchObject({
			firstname: 'Ana',
			lastname: null,
			fullname: 'Ana',
			email: null,
			phone: '5511999990000',
			points: 42,
			owner_id: '17',
			archived: true,
			create_date: null,
			last_active: null,
			created_by: 'api',
		});
		expect((rows[0].updated_date as Date).toISOString()).toBe('2026-11-01T10:00:00.123Z');
		expect(rows[0].raw).toMatchObject({ data_de_nascimento: '1990-05-01', createdByUtm: [{ source: 'x' }], createDate: '2024-02-31T10:00:00.000Z' });
		expect(Object.keys(rows[0].cast_problems as object).sort()).toEqual(['createDate', 'email', 'lastActive']);
		expect((rows[0].cast_problems as Record<string, unknown>).lastActive).toEqual({ value: 'ontem', expected: 'timestamptz' });
		expect(rows[1]).toMatchObject({ points: null, owner_id: null, owner_name: 'Bob', archived: true, create_date: null, created_by: '33' });
		expect(Object.keys(rows[1].cast_problems as object)).toEqual(['points']);
		expect(rows[2]).toMatchObject({ points: null, owner_id: null, archived: null, updated_date: null });
		expect(Object.keys(rows[2].cast_problems as object).sort()).toEqual(['archived', 'owner', 'points', 'updatedDate']);

		// A user types a custom field with a generated column, using the same casts.
		await stack.query(`alter table leads add column if not exists data_de_nascimento date generated always as (sync_to_date(raw -> 'data_de_nascimento')) stored`);
		expect((await stack.query(`select data_de_nascimento::text as d from leads where id = 9001`))[0]).toEqual({ d: '1990-05-01' });
		await stack.query(`alter table leads drop column data_de_nascimento`);

		const finish = await store.finish(runId, { status: 'success' });
		expect(finish.stats).toMatchObject({ rejected: 5, leads_seen: 3 });
		expect(finish.success_rate).toBeCloseTo(37.5, 5);
	});

	test('quarantined leads are listed for retry, resolved when written, and counted as failed', async () => {
		const segmentId = await newSegment();
		const runId = await claimOne(segmentId);
		await store.applyPage(runId, [{ id: 9101 }, { id: 9102 }, detail(9103)]);
		expect(await store.quarantine(runId, [{ lead_id: 9101, stage: 'fetch', error: 'HTTP 502' }, { lead_id: 9102, stage: 'fetch', error: 'timeout' }])).toBe(2);
		// Reported again by the same run: one attempt, not counted twice.
		await store.quarantine(runId, [{ lead_id: 9101, stage: 'fetch', error: 'HTTP 502 again' }]);
		const finish = await store.finish(runId, { status: 'partial', complete: true });
		expect(finish.stats.failed).toBe(2);
		expect(finish.success_rate).toBeCloseTo(33.33, 2);

		const open = await store.quarantined(segmentId);
		expect(open.map((q) => [q.lead_id, q.attempts, q.error]).sort()).toEqual([
			[9101, 1, 'HTTP 502 again'],
			[9102, 1, 'timeout'],
		]);
		const nextRun = await claimOne(segmentId);
		await store.applyPage(nextRun, [detail(9101), { id: 9102 }, detail(9103)]);
		await store.quarantine(nextRun, [{ lead_id: 9102, stage: 'fetch', error: 'HTTP 404' }]);
		expect((await store.quarantined(segmentId)).map((q) => [q.lead_id, q.attempts])).toEqual([[9102, 2]]);
		expect(await store.releaseQuarantine(segmentId, [9102], 'deleted in SprintHub')).toBe(1);
		expect(await store.quarantined(segmentId)).toEqual([]);
		expect((await store.health([segmentId]))[0].quarantined).toBe(0);
		await store.finish(nextRun, { status: 'success', complete: true });
	});
});

describe('lead rows (written alike by a page and by Lead → Upsert)', () => {
	test('a lead another transaction writes with the same content meanwhile is not written again', async () => {
		const segmentId = await newSegment();
		const runId = await claimOne(segmentId);
		const other = new Client({ connectionString: stack.databaseUrl });
		await other.connect();
		try {
			const [{ pid }] = (await other.query<{ pid: number }>('select pg_backend_pid() as pid')).rows;
			const writers = [
				{ id: 9501, write: async (record: Record<string, unknown>) => store.applyPage(runId, [{ record, enriched: true }]) },
				{ id: 9502, write: async (record: Record<string, unknown>) => store.upsertLeads([record], { complete: true }) },
			];
			const results: unknown[] = [];
			for (const { id, write } of writers) {
				const record = { id, fullname: `Lead ${id}`, points: 'lots', updatedDate: '2026-11-03T10:00:00.000Z' };
				// The other transaction writes the lead and holds it; ours must wait for it to commit.
				await other.query('begin');
				await other.query('select sync_upsert_leads($1::jsonb, true)', [JSON.stringify([record])]);
				const [stored] = (await other.query('select written_at from leads where id = $1', [id])).rows;
				let settled = false;
				const pending = write(record).finally(() => (settled = true));
				while (!settled && Number((await stack.query('select count(*) from pg_stat_activity where $1 = any(pg_blocking_pids(pid))', [pid]))[0].count) === 0) {
					await new Promise((resolve) => setTimeout(resolve, 20));
				}
				await other.query('commit');
				results.push(await pending);
				expect(await stack.query('select written_at from leads where id = $1', [id])).toEqual([stored]);
			}
			expect(results[0]).toMatchObject({ seen: 1, inserted: 0, updated: 0, unchanged: 1 });
			expect(results[1]).toEqual([
				expect.objectContaining({ id: 9502, status: 'unchanged', cast_problems: { points: { value: 'lots', expected: 'integer' } } }),
			]);
		} finally {
			await other.query('rollback').catch(() => undefined);
			await other.end();
		}
		await store.finish(runId, { status: 'success' });
	});

	test('a lead marked deleted is live again when its record is written again, even unchanged', async () => {
		const segmentId = await newSegment();
		const runId = await claimOne(segmentId);
		const [first, second] = [detail(9511), detail(9512)];
		await store.applyPage(runId, [first, second]);
		expect(await store.markDeleted(runId, [9511, 9512])).toBe(2);
		expect(await store.applyPage(runId, [first])).toMatchObject({ inserted: 0, updated: 1, unchanged: 0 });
		expect(await store.upsertLeads([second.record], { complete: true })).toEqual([expect.objectContaining({ id: 9512, status: 'updated' })]);
		expect(await stack.query('select id::int, deleted_at from leads where id in (9511, 9512) order by id')).toEqual([
			{ id: 9511, deleted_at: null },
			{ id: 9512, deleted_at: null },
		]);
		// Written again unchanged once it is live: nothing to do.
		expect(await store.applyPage(runId, [first])).toMatchObject({ inserted: 0, updated: 0, unchanged: 1 });
		await store.finish(runId, { status: 'success' });
	});
});

describe('finish', () => {
	test('the sweep marks leavers only after a complete pass and respects the guard', async () => {
		const segmentId = await newSegment();
		const all = range(20000, 30);
		let run = await claimOne(segmentId);
		await store.applyPage(run, page(all));
		expect((await store.finish(run, { status: 'success', complete: true })).left).toBe(0);

		// Incomplete pass that saw only half: nobody leaves.
		run = await claimOne(segmentId);
		await store.applyPage(run, page(all.slice(0, 15)));
		expect((await store.finish(run, { status: 'rate_limited' })).left).toBe(0);

		// Complete pass without 6 leads (20%): they leave.
		run = await claimOne(segmentId);
		await store.applyPage(run, page(all.slice(6)));
		const sweep = await store.finish(run, { status: 'success', complete: true });
		expect(sweep).toMatchObject({ status: 'success', left: 6, left_blocked: 0 });
		const leftIds = await stack.query(`select lead_id::int from sync_segment_leads where segment_id = $1 and left_at is not null order by lead_id`, [segmentId]);
		expect(leftIds.map((r) => r.lead_id)).toEqual(all.slice(0, 6));

		// A broken response: a complete pass that sees 2 of 24 members. The guard refuses.
		run = await claimOne(segmentId);
		await store.applyPage(run, page(all.slice(6, 8)));
		const guarded = await store.finish(run, { status: 'success', complete: true });
		expect(guarded).toMatchObject({ status: 'partial', left: 0, left_blocked: 22 });
		expect(guarded.message).toContain('leave guard');
		expect(guarded.message).toContain(`sync_add_segment(${segmentId}, p_max_leave_share => 1)`);
		expect((await stack.query(`select count(*)::int as n from sync_segment_leads where segment_id = $1 and left_at is null`, [segmentId]))[0].n).toBe(24);

		// The user confirms the segment really shrank.
		await store.addSegment(segmentId, { maxLeaveShare: 1 });
		run = await claimOne(segmentId);
		await store.applyPage(run, page(all.slice(6, 8)));
		expect(await store.finish(run, { status: 'success', complete: true })).toMatchObject({ status: 'success', left: 22 });

		// A lead that left and comes back is a member again.
		run = await claimOne(segmentId);
		const back = await store.applyPage(run, page([all[0], all[6], all[7]]));
		expect(back.joined).toBe(0);
		await store.finish(run, { status: 'success', complete: true });
		const [rejoined] = await stack.query(`select left_at from sync_segment_leads where segment_id = $1 and lead_id = $2`, [segmentId, all[0]]);
		expect(rejoined.left_at).toBeNull();
	});

	test('failures reach error after the threshold; a success resets the count', async () => {
		const segmentId = await newSegment({ maxConsecutiveFailures: 3 });
		const fail = async () => store.finish(await claimOne(segmentId), { status: 'failed', errorClass: 'transient', message: 'HTTP 502' });
		expect((await fail()).consecutive_failures).toBe(1);
		expect((await fail()).consecutive_failures).toBe(2);
		// Throttling is not a failure.
		expect((await store.finish(await claimOne(segmentId), { status: 'rate_limited', errorClass: 'throttled' })).consecutive_failures).toBe(2);
		expect((await store.finish(await claimOne(segmentId), { status: 'success', complete: true })).consecutive_failures).toBe(0);

		await fail();
		await fail();
		const third = await fail();
		expect(third).toMatchObject({ consecutive_failures: 3, segment_status: 'error' });
		const [health] = await store.health([segmentId]);
		expect(health).toMatchObject({ health: 'error', status: 'error', last_error_class: 'transient', last_message: 'HTTP 502' });
		// The scheduler leaves it alone; a manual run may still try it, and its success clears the error.
		expect((await store.claim({ worker: 'worker-a', segmentIds: [segmentId], trigger: 'schedule' }))[0].outcome).toBe('error');
		const recovered = await store.finish(await claimOne(segmentId), { status: 'success', complete: true });
		expect(recovered).toMatchObject({ segment_status: 'active', consecutive_failures: 0 });
	});

	test('next execution follows the schedule, or now for a run that must resume', async () => {
		const segmentId = await newSegment({ schedule: '30 6 * * *', timezone: 'America/Sao_Paulo' });
		const done = await store.finish(await claimOne(segmentId), { status: 'success', complete: true });
		const next = new Date(done.next_execution);
		expect(next.getUTCHours()).toBe(9);
		expect(next.getUTCMinutes()).toBe(30);
		expect(next.getTime()).toBeGreaterThan(Date.now());
		expect(next.getTime()).toBeLessThanOrEqual(Date.now() + 24 * 3600_000);

		const run = await claimOne(segmentId);
		await store.applyPage(run, page([30001]), { checkpoint: { page: 1 } });
		const throttled = await store.finish(run, { status: 'rate_limited', errorClass: 'throttled' });
		expect(new Date(throttled.next_execution).getTime()).toBeLessThanOrEqual(Date.now() + 1000);
		const [control] = await store.listControl([segmentId]);
		expect(control.checkpoint).toEqual({ page: 1 });
		const [resumed] = await store.claim({ worker: 'worker-a', limit: 100 }).then((rows) => rows.filter((r) => r.segment_id === segmentId));
		expect(resumed).toMatchObject({ outcome: 'claimed', checkpoint: { page: 1 }, resumed_from: run });
		await store.finish(resumed.run_id!, { status: 'success', complete: true, retryAfterSeconds: 600 });
		const [after] = await store.listControl([segmentId]);
		expect(new Date(after.next_execution!).getTime()).toBeGreaterThan(Date.now() + 590_000);
	});
});

describe('finish, review fixes', () => {
	let stack: Stack;
	let store: SyncStore;
	beforeAll(async () => {
		stack = await startStack();
		store = SyncStore.connect({ url: stack.supabaseUrl, serviceRoleKey: stack.serviceRoleKey });
	});
	afterAll(() => stack?.stop());

	const claimNew = async (segmentId: number) => {
		await stack.query(`select sync_add_segment($1, p_schedule => '1 day')`, [segmentId]);
		const [row] = await store.claim({ worker: 'w1', segmentIds: [segmentId], trigger: 'manual' });
		return row.run_id!;
	};

	test('finishing twice (a retry after a lost answer) returns the first result instead of failing', async () => {
		const runId = await claimNew(9101);
		const first = await store.finish(runId, { status: 'success', complete: true });
		const again = await store.finish(runId, { status: 'success', complete: true });
		expect(again).toMatchObject({ status: first.status, run_id: runId, next_execution: first.next_execution });
	});

	test('a run throttled or cancelled before its first page is due again at once, not a schedule later', async () => {
		for (const [segmentId, status] of [[9102, 'rate_limited'], [9103, 'cancelled']] as const) {
			const runId = await claimNew(segmentId);
			const finished = await store.finish(runId, { status });
			expect(new Date(finished.next_execution).getTime()).toBeLessThanOrEqual(Date.now() + 1000);
		}
	});

	test('one empty answer cannot empty a small segment: sweeping every member at once is refused', async () => {
		const runId = await claimNew(9104);
		await store.applyPage(runId, [{ id: 1 }, { id: 2 }, { id: 3 }], { checkpoint: { nextPage: 1 } });
		await store.finish(runId, { status: 'success', complete: true });
		const [second] = await store.claim({ worker: 'w1', segmentIds: [9104], trigger: 'manual' });
		const finished = await store.finish(second.run_id!, { status: 'success', complete: true });
		expect(finished).toMatchObject({ status: 'partial', left: 0, left_blocked: 3 });
		const members = await stack.query(`select lead_id from sync_segment_leads where segment_id = 9104 and left_at is null`);
		expect(members).toHaveLength(3);
	});
});
