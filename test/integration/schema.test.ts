import { readFileSync } from 'node:fs';
import { createClient } from '@supabase/supabase-js';
import ws from 'ws';
import { startStack, type Stack } from '../support/stack';
import { listMigrations } from '../support/migrations';
import { SyncStore, StoreError } from '../../engine/store';

/** The migrations as a Supabase user meets them: access rules, the SQL editor, a project without them. */

let stack: Stack;

beforeAll(async () => {
	stack = await startStack();
});
afterAll(async () => {
	await stack?.stop();
});

const TABLES = ['leads', 'sync_segment_leads', 'sync_segments_control', 'sync_segments_logs', 'sync_run_pages', 'sync_quarantine', 'sync_alert_state', 'sync_settings', 'sync_account_budgets', 'sync_list_capabilities'];

function apiClient(key: string) {
	return createClient(stack.supabaseUrl, key, {
		auth: { persistSession: false, autoRefreshToken: false },
		realtime: { transport: ws as unknown as never },
	});
}

async function syncFunctions(): Promise<Array<{ name: string; signature: string; definer: boolean; config: string[] | null }>> {
	return stack.query(
		`select p.proname as name, p.oid::regprocedure::text as signature, p.prosecdef as definer, p.proconfig as config
		 from pg_proc p where p.pronamespace = 'public'::regnamespace and p.proname like 'sync\\_%' order by 1`,
	);
}

describe('migrations', () => {
	test('apply again on a migrated database without error or change', async () => {
		const before = await stack.query(`select count(*)::int as n from pg_class where relnamespace = 'public'::regnamespace`);
		await stack.query(`select sync_add_segment(1, 'kept', '1 day')`);
		const files = listMigrations().map((migration) => readFileSync(migration.path, 'utf8'));
		for (const sql of files) expect(sql).not.toMatch(/^\\/m); // no psql meta-commands: `supabase db push` runs plain SQL
		// In one transaction: each file NOTIFYs PostgREST, and a schema reload that read the state between
		// two files (an old file recreates sync_claim's old overload, a later one drops it) could finish
		// after the last one and leave PostgREST with two overloads (PGRST203 in the tests after this one).
		// Notifications are delivered at commit, so every reload sees the final state.
		await stack.query(`begin;\n${files.join('\n;\n')}\n;\ncommit;`);
		const after = await stack.query(`select count(*)::int as n from pg_class where relnamespace = 'public'::regnamespace`);
		expect(after).toEqual(before);
		await stack.reloadSchema();
		expect(await stack.query(`select segment_name from sync_segments_control where segment_id = 1`)).toEqual([{ segment_name: 'kept' }]);
		await stack.query(`delete from sync_segments_control where segment_id = 1`);
	});

	test('every table has row level security and no policy; functions are invoker rights with a fixed search_path', async () => {
		const tables = await stack.query(
			`select c.relname, c.relrowsecurity, (select count(*)::int from pg_policy p where p.polrelid = c.oid) as policies
			 from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind = 'r' order by 1`,
		);
		expect(tables.map((t) => t.relname)).toEqual([...TABLES].sort());
		for (const table of tables) expect(table).toMatchObject({ relrowsecurity: true, policies: 0 });

		const functions = await syncFunctions();
		expect(functions.length).toBeGreaterThanOrEqual(25);
		for (const fn of functions) {
			expect({ fn: fn.name, definer: fn.definer }).toEqual({ fn: fn.name, definer: false });
			expect({ fn: fn.name, config: fn.config }).toEqual({ fn: fn.name, config: ['search_path=public, pg_temp'] });
		}
		const grants = await stack.query(
			`select r.rolname, count(*) filter (where has_function_privilege(r.rolname, p.oid, 'execute'))::int as executable
			 from pg_proc p cross join pg_roles r
			 where p.pronamespace = 'public'::regnamespace and p.proname like 'sync\\_%' and r.rolname in ('anon', 'authenticated', 'service_role')
			 group by r.rolname order by 1`,
		);
		expect(grants).toEqual([
			{ rolname: 'anon', executable: 0 },
			{ rolname: 'authenticated', executable: 0 },
			{ rolname: 'service_role', executable: functions.length },
		]);
	});

	test('anon and authenticated keys can read or call nothing', async () => {
		await stack.query(`select sync_add_segment(2, 'secret segment')`);
		await stack.query(`insert into leads (id, raw) values (1, '{"id": 1}') on conflict do nothing`);
		const functions = await syncFunctions();
		for (const key of [stack.anonKey, stack.authenticatedKey]) {
			const client = apiClient(key);
			for (const relation of [...TABLES, 'sync_segments_health']) {
				const { data, error, status } = await client.from(relation).select('*');
				expect({ relation, data, code: error?.code }).toEqual({ relation, data: null, code: '42501' });
				expect([401, 403]).toContain(status);
			}
			const write = await client.from('sync_segments_control').insert({ segment_id: 3 });
			expect(write.error?.code).toBe('42501');
			for (const fn of new Set(functions.map((f) => f.name))) {
				const { data, error } = await client.rpc(fn, {});
				// Either refused outright or unknown with these arguments; never a result.
				expect({ fn, data }).toEqual({ fn, data: null });
				expect(['42501', 'PGRST202', '42883']).toContain(error?.code);
			}
			const claim = await client.rpc('sync_claim', { p_worker: 'intruder' });
			expect(claim.error?.code).toBe('42501');
			const health = await client.rpc('sync_add_segment', { p_segment_id: 5 });
			expect(health.error?.code).toBe('42501');
		}
		expect(await stack.query(`select segment_id::int from sync_segments_control where segment_id in (3, 5)`)).toEqual([]);
		// The service role key reads it all.
		const service = apiClient(stack.serviceRoleKey);
		const { data, error } = await service.from('sync_segments_control').select('segment_id, segment_name').eq('segment_id', 2);
		expect(error).toBeNull();
		expect(data).toEqual([{ segment_id: 2, segment_name: 'secret segment' }]);
		await stack.query(`delete from sync_segments_control where segment_id = 2; delete from leads where id = 1`);
	});

	test('a store with the anon key says to use the service role key, without showing the key', async () => {
		const anonStore = SyncStore.connect({ url: stack.supabaseUrl, serviceRoleKey: stack.anonKey });
		const error = await anonStore.claim({ worker: 'w' }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(StoreError);
		expect((error as StoreError).kind).toBe('permission');
		expect((error as StoreError).message).toContain('service role key');
		expect((error as StoreError).message).not.toContain(stack.anonKey);
		const badKey = SyncStore.connect({ url: stack.supabaseUrl, serviceRoleKey: 'not-a-valid-key-at-all' });
		const rejected = (await badKey.listControl().catch((e: unknown) => e)) as StoreError;
		expect(rejected.kind).toBe('auth');
		expect(rejected.message).toContain('service role key');
		expect(rejected.message).not.toContain('not-a-valid-key-at-all');
	});
});

describe('the SQL editor', () => {
	test('the original monitoring queries keep working', async () => {
		const store = SyncStore.connect({ url: stack.supabaseUrl, serviceRoleKey: stack.serviceRoleKey });
		await store.addSegment(42, { name: 'Clientes', schedule: '0 6 * * *' });
		const [claim] = await store.claim({ worker: 'w', segmentIds: [42], trigger: 'cli' });
		await store.applyPage(claim.run_id!, [{ record: { id: 4201, fullname: 'X' }, enriched: true }]);
		await store.finish(claim.run_id!, { status: 'success', complete: true });

		const logs = await stack.query(`select * from sync_segments_logs order by execution_time desc limit 20`);
		expect(logs[0]).toMatchObject({ segment_id: '42', status: 'success', trigger: 'cli', run_id: claim.run_id });
		for (const column of ['segment_id', 'execution_time', 'status', 'message', 'stats', 'duration_seconds', 'success_rate']) {
			expect(logs[0]).toHaveProperty(column);
		}
		expect(Number(logs[0].success_rate)).toBe(100);
		const control = await stack.query(`select * from sync_segments_control`);
		expect(control).toContainEqual(expect.objectContaining({ segment_id: '42', segment_name: 'Clientes', status: 'active', schedule: '0 6 * * *' }));
		const [health] = await stack.query(`select health, members::int, recent_success_rate::float from sync_segments_health where segment_id = 42`);
		expect(health).toEqual({ health: 'ok', members: 1, recent_success_rate: 100 });
	});

	test('management functions work from SQL', async () => {
		const [added] = await stack.query(`select * from sync_add_segment(77, 'Leads quentes', '0 9 * * mon-fri', 'America/Sao_Paulo')`);
		expect(added).toMatchObject({ segment_id: '77', status: 'active', schedule_timezone: 'America/Sao_Paulo' });

		const [paused] = await stack.query(`select (sync_pause_segment(77)).status`);
		expect(paused.status).toBe('paused');
		await expect(stack.query(`select sync_run_segment_now(77)`)).rejects.toThrow('resume it first with select sync_resume_segment(77)');
		expect((await stack.query(`select (sync_resume_segment(77)).status`))[0].status).toBe('active');

		const [rescheduled] = await stack.query(
			`select (r).schedule, (r).next_execution > now() as future, (r).next_execution <= now() + interval '6 hours' as within
			 from (select sync_reschedule_segment(77, '6 hours') as r) x`,
		);
		expect(rescheduled).toEqual({ schedule: '6 hours', future: true, within: true });

		const [due] = await stack.query(`select (sync_run_segment_now(77)).next_execution <= now() as due`);
		expect(due.due).toBe(true);
		// Updating settings of an existing segment keeps the rest.
		const [updated] = await stack.query(`select * from sync_add_segment(77, p_enrichment_mode => 'all', p_max_leave_share => 0.2)`);
		expect(updated).toMatchObject({ segment_name: 'Leads quentes', enrichment_mode: 'all', schedule: '6 hours' });

		await expect(stack.query(`select sync_pause_segment(123456)`)).rejects.toThrow('segment 123456 is not configured');
		await expect(stack.query(`update sync_segments_control set schedule = 'every tuesday' where segment_id = 77`)).rejects.toThrow(
			"invalid schedule 'every tuesday'",
		);
		await expect(stack.query(`select sync_add_segment(78, 'x', '0 25 * * *')`)).rejects.toThrow('invalid cron field');
		await expect(stack.query(`select sync_add_segment(78, 'x', '1 day', 'Mars/Olympus')`)).rejects.toThrow('unknown time zone');
		await expect(stack.query(`insert into sync_segments_control (segment_id) values (77)`)).rejects.toThrow('duplicate key');
	});

	test('schedules: cron expressions (in a time zone) and intervals', async () => {
		const cases: Array<[string, string, string, string]> = [
			['0 6 * * *', '2026-11-29T10:00:00Z', 'UTC', '2026-11-30T06:00:00.000Z'],
			['*/15 * * * *', '2026-11-29T10:07:30Z', 'UTC', '2026-11-29T10:15:00.000Z'],
			['0 9 * * mon-fri', '2026-11-28T10:00:00Z', 'America/Sao_Paulo', '2026-11-30T12:00:00.000Z'],
			['30 2 1,15 * *', '2026-11-15T03:00:00Z', 'UTC', '2026-12-01T02:30:00.000Z'],
			['0 0 29 2 *', '2026-11-29T10:00:00Z', 'UTC', '2028-02-29T00:00:00.000Z'],
			['0 12 1 * 1', '2026-11-29T13:00:00Z', 'UTC', '2026-11-30T12:00:00.000Z'],
			['@daily', '2026-11-29T10:00:00Z', 'UTC', '2026-11-30T00:00:00.000Z'],
			['6 hours', '2026-11-29T10:00:00Z', 'UTC', '2026-11-29T16:00:00.000Z'],
		];
		for (const [schedule, after, timezone, expected] of cases) {
			const [row] = await stack.query(`select sync_next_execution($1, $2::timestamptz, $3) as next`, [schedule, after, timezone]);
			expect({ schedule, next: (row.next as Date).toISOString() }).toEqual({ schedule, next: expected });
		}
		await expect(stack.query(`select sync_next_execution('0 0 31 2 *')`)).rejects.toThrow('never fires');
		await expect(stack.query(`select sync_next_execution('-1 hour')`)).rejects.toThrow('must be positive');
	});
});

describe('a project where the migrations were not run', () => {
	test('the store says to run the migrations', async () => {
		const empty = await startStack({ migrations: false });
		try {
			const store = SyncStore.connect({ url: empty.supabaseUrl, serviceRoleKey: empty.serviceRoleKey });
			for (const call of [() => store.claim({ worker: 'w' }), () => store.listControl(), () => store.health()]) {
				const error = (await call().catch((e: unknown) => e)) as StoreError;
				expect(error).toBeInstanceOf(StoreError);
				expect(error.kind).toBe('migrations_missing');
				expect(error.message).toContain('run the migrations');
				expect(error.message).not.toContain(empty.serviceRoleKey);
			}
		} finally {
			await empty.stop();
		}
	});
});

describe('a project whose migrations stop before the leavers-pending one', () => {
	test('the health read and a run\'s page writes say to run the migrations', async () => {
		const behind = await startStack({ migrations: false });
		try {
			for (const migration of listMigrations().filter((m) => m.version < '20261201001000')) await behind.query(readFileSync(migration.path, 'utf8'));
			await behind.reloadSchema();
			const store = SyncStore.connect({ url: behind.supabaseUrl, serviceRoleKey: behind.serviceRoleKey });
			await store.addSegment(5, { schedule: '1 day' });
			const [claimed] = await store.claim({ worker: 'w', segmentIds: [5] });
			expect(claimed.run_id).toEqual(expect.any(String));
			const runId = claimed.run_id as string;
			for (const call of [() => store.health(), () => store.applyPage(runId, [{ id: 1 }], { walk: 1 })]) {
				const error = (await call().catch((e: unknown) => e)) as StoreError;
				expect(error).toBeInstanceOf(StoreError);
				expect(error.kind).toBe('migrations_missing');
				expect(error.message).toContain('run the migrations');
			}
		} finally {
			await behind.stop();
		}
	});
});

describe('casts in parallel queries', () => {
	let parallelStack: Awaited<ReturnType<typeof startStack>>;
	beforeAll(async () => {
		parallelStack = await startStack();
	});
	afterAll(() => parallelStack?.stop());

	it('an analyst’s query that Postgres runs with parallel workers can use the date casts', async () => {
		// The date cast has an exception block (a subtransaction), which parallel workers cannot start:
		// the casts are parallel unsafe, so Postgres plans such a query without workers.
		await parallelStack.query(`create table cast_probe as
			select g as id, jsonb_build_object('d', case when g % 3 = 0 then '2024-13-45' else '2024-05-31T12:34:56.789Z' end) as raw
			from generate_series(1, 30000) g`);
		await parallelStack.query('analyze cast_probe');
		await parallelStack.query('set parallel_setup_cost = 0; set parallel_tuple_cost = 0; set min_parallel_table_scan_size = 0; set max_parallel_workers_per_gather = 2;');
		const sql = `select count(sync_to_timestamptz(raw -> 'd')) as n, count(sync_to_date(raw -> 'd')) as d from cast_probe`;
		const [{ n, d }] = await parallelStack.query<{ n: string; d: string }>(sql);
		expect(Number(n)).toBe(20000);
		expect(Number(d)).toBe(20000);
	});
});
