/**
 * Users of the original system (setup-cron-sync.sql: pg_cron + an Edge Function) install the
 * package over their own tables with the one command the README gives, the real Supabase CLI's
 * `db push --include-roles`: their segments, run history and SQL keep working, a sync then fills
 * the database from SprintHub (the simulator), and a leads table of their own is never touched.
 * pg_cron's side is in upgradeFromOriginal.pgcron.test.ts.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from 'pg';
import { expectSegmentMatchesTruth } from './fixtures/syncTruth';
import { ORIGINAL_HISTORY_SQL, ORIGINAL_SETUP_SQL } from './fixtures/originalSystem';
import { applyMigrations, listMigrations } from '../support/migrations';
import { startStack, type Stack } from '../support/stack';
import { supabaseDbPush } from '../support/supabaseCli';
import { startSyncWorld, type SyncWorld } from '../support/world';

const ROOT = join(__dirname, '..', '..');
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const CLI_ENTRY = join(ROOT, 'cli', 'sprinthub-sync.ts');
/** The migration that takes over the original functions; installs made before it lack it. */
const COMPAT_VERSION = '20261201000900';

/** `sprinthub-sync <args>` as a user runs it, against this world, from a folder without a .env. */
function sprinthubSync(world: SyncWorld, cwd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
	const env: NodeJS.ProcessEnv = {};
	for (const [key, value] of Object.entries(process.env)) if (!/^(VITE_)?(SPRINTHUB|SUPABASE)_/.test(key)) env[key] = value;
	Object.assign(env, {
		SPRINTHUB_BASE_URL: world.sim.baseUrl,
		SPRINTHUB_INSTANCE: world.sim.instance,
		SPRINTHUB_API_TOKEN: world.sim.token,
		SUPABASE_URL: world.stack.supabaseUrl,
		SUPABASE_SERVICE_ROLE_KEY: world.stack.serviceRoleKey,
	});
	return new Promise((resolve) => {
		const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI_ENTRY, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
		child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
		child.once('close', (code) => resolve({ code, stdout, stderr }));
	});
}

/** Everything a push could change: the two tables' rows and shape, constraints, public functions and their grants, the history. */
async function databaseState(stack: Stack) {
	const tables = ['sync_segments_control', 'sync_segments_logs', 'leads'];
	return {
		control: await stack.query('select * from sync_segments_control order by id'),
		logs: await stack.query('select * from sync_segments_logs order by id'),
		notes: (await stack.query<{ exists: boolean }>(`select to_regclass('sync_internal.upgrade_notes') is not null as exists`))[0].exists
			? await stack.query('select id, note from sync_internal.upgrade_notes order by id')
			: [],
		columns: await stack.query(
			`select table_name, column_name, data_type, column_default, is_nullable from information_schema.columns
			where table_schema = 'public' and table_name = any($1) order by table_name, ordinal_position`,
			[tables],
		),
		constraints: await stack.query(
			`select conrelid::regclass::text as rel, conname, pg_get_constraintdef(oid) as def, convalidated
			from pg_constraint where connamespace = 'public'::regnamespace order by 1, 2`,
		),
		indexes: await stack.query(`select indexname, indexdef from pg_indexes where schemaname = 'public' order by 1`),
		functions: await stack.query(
			`select p.oid::regprocedure::text as fn, md5(pg_get_functiondef(p.oid)) as def, p.proacl::text as acl
			from pg_proc p where p.pronamespace = 'public'::regnamespace order by 1`,
		),
		migrations: await stack.query(`select version from supabase_migrations.schema_migrations order by version`),
	};
}

describe('upgrade in place: a database of the original system (segments registered twice, run history)', () => {
	let world: SyncWorld;
	let workDir: string;
	let before: { control: Array<Record<string, unknown>>; logs: Array<Record<string, unknown>> };

	beforeAll(async () => {
		workDir = mkdtempSync(join(tmpdir(), 'sprinthub-upgrade-'));
		world = await startSyncWorld(
			{ seed: 17, segments: [{ id: 123, name: 'Clientes ativos', size: 300 }, { id: 456, name: 'Leads quentes', size: 60 }] },
			{ migrations: false },
		);
		await world.stack.query(ORIGINAL_SETUP_SQL);
		await world.stack.query(ORIGINAL_HISTORY_SQL);
		before = {
			control: await world.stack.query('select * from sync_segments_control order by id'),
			logs: await world.stack.query('select * from sync_segments_logs order by id'),
		};
		expect(before.control.map((row) => row.segment_id)).toEqual([123, 123, 456, 789]);
		expect(before.logs.map((row) => row.status)).toEqual(['success', 'error']);
	});
	afterAll(async () => {
		await world?.stop();
		if (workDir) rmSync(workDir, { recursive: true, force: true });
	});

	it('db push --include-roles upgrades it in place: one row per segment, every old run kept with its status', async () => {
		const push = await supabaseDbPush(world.stack.databaseUrl, ['--include-roles']);
		expect(push).toMatchObject({ code: 0 });
		for (const migration of listMigrations()) expect(push.output).toContain(`Applying migration ${migration.version}_${migration.name}.sql`);

		const [first, second, added, paused] = before.control as Array<{ id: number; next_execution: Date; last_execution: Date | null }>;
		const control = await world.stack.query(
			`select id, segment_id::int, status, next_execution, last_execution, schedule, schedule_timezone from sync_segments_control order by segment_id`,
		);
		expect(control).toEqual([
			// The two rows of 123 merged into the first: the soonest next run, the latest run.
			{ id: first.id, segment_id: 123, status: 'active', next_execution: first.next_execution, last_execution: first.last_execution, schedule: '0 6 * * *', schedule_timezone: 'UTC' },
			{ id: added.id, segment_id: 456, status: 'active', next_execution: added.next_execution, last_execution: null, schedule: '0 6 * * *', schedule_timezone: 'UTC' },
			{ id: paused.id, segment_id: 789, status: 'paused', next_execution: paused.next_execution, last_execution: null, schedule: '0 6 * * *', schedule_timezone: 'UTC' },
		]);
		expect(second.next_execution.getTime()).toBeGreaterThan(first.next_execution.getTime());

		const logs = await world.stack.query<Record<string, unknown>>(
			`select id::int, segment_id::int, execution_time, status, message, stats, duration_seconds, success_rate, run_id, trigger from sync_segments_logs order by id`,
		);
		const original = ['id', 'segment_id', 'execution_time', 'status', 'message', 'duration_seconds', 'success_rate'];
		const pick = (row: Record<string, unknown>) => Object.fromEntries(original.map((key) => [key, row[key]]));
		expect(logs.map(pick)).toEqual(before.logs.map(pick));
		expect(logs.map((row) => row.stats)).toEqual([{ total: 120, enriched: 120 }, {}]);
		expect(new Set(logs.map((row) => row.run_id)).size).toBe(2);

		const notes = (await world.stack.query<{ note: string }>('select note from sync_internal.upgrade_notes order by id')).map((row) => row.note);
		expect(notes.join('\n')).toContain(`segment 123 was registered 2 times (ids ${first.id}, ${second.id}); merged into id ${first.id}: status active`);
		expect(notes.join('\n')).toContain('old runs keep the status they were written with: error (1 run)');
	});

	it('reads the old runs as the package’s: the health view and sprinthub-sync status show 123 failing since its error', async () => {
		await world.stack.reloadSchema();
		const status = await sprinthubSync(world, workDir, ['status', '--json']);
		expect(status).toMatchObject({ code: 0 });
		const rows = JSON.parse(status.stdout) as Array<Record<string, unknown>>;
		expect(rows.map((row) => [row.segment_id, row.health, row.last_status, row.recent_success_rate, row.last_message])).toEqual([
			[123, 'failing', 'failed', 50, 'Edge Function timeout'],
			[456, 'never_run', null, null, null],
			[789, 'paused', null, null, null],
		]);
		expect(rows[0]).toMatchObject({ consecutive_failures: 1, recent_runs: 2 });
	});

	it('"run now" of the original README makes the active segments due; sync-due then makes the database equal SprintHub', async () => {
		await world.stack.query('SELECT sync_segment_leads_via_edge_function();');
		const due = await world.stack.query(`select segment_id::int, next_execution <= now() as due from sync_segments_control order by segment_id`);
		expect(due).toEqual([
			{ segment_id: 123, due: true },
			{ segment_id: 456, due: true },
			{ segment_id: 789, due: false },
		]);

		const sync = await sprinthubSync(world, workDir, ['sync-due', '--rate', '60000', '--json', '--progress', 'none']);
		expect({ code: sync.code, stderr: sync.stderr }).toEqual({ code: 0, stderr: '' });
		const results = (JSON.parse(sync.stdout) as { results: Array<{ segmentId: number; status: string }> }).results;
		expect(results.map((result) => [result.segmentId, result.status]).sort()).toEqual([
			[123, 'success'],
			[456, 'success'],
		]);
		await expectSegmentMatchesTruth(world, 123, { sample: 60 });
		await expectSegmentMatchesTruth(world, 456);
		expect(await world.memberIds(789)).toEqual([]);

		const health = await world.stack.query(`select segment_id::int, health, last_status, consecutive_failures from sync_segments_health order by segment_id`);
		expect(health).toEqual([
			{ segment_id: 123, health: 'ok', last_status: 'success', consecutive_failures: 0 },
			{ segment_id: 456, health: 'ok', last_status: 'success', consecutive_failures: 0 },
			{ segment_id: 789, health: 'paused', last_status: null, consecutive_failures: 0 },
		]);
	});

	it('the original SQL keeps working: add, pause, reactivate, monitor, log_sync_execution', async () => {
		const { query } = world.stack;
		// Adicionar novo segmento: it follows the old pg_cron job's schedule like the others.
		await query(`INSERT INTO public.sync_segments_control (segment_id, next_execution) VALUES (4242, NOW() + INTERVAL '1 day');`);
		expect(await query(`select status, schedule, schedule_timezone, next_execution > now() as later from sync_segments_control where segment_id = 4242`)).toEqual([
			{ status: 'active', schedule: '0 6 * * *', schedule_timezone: 'UTC', later: true },
		]);
		// setup-cron-sync.sql again: its ON CONFLICT DO NOTHING now has a constraint to conflict with.
		await query(`INSERT INTO public.sync_segments_control (segment_id, next_execution) VALUES (123, NOW() + INTERVAL '1 day') ON CONFLICT DO NOTHING;`);
		expect(await query(`select count(*)::int as n from sync_segments_control where segment_id = 123`)).toEqual([{ n: 1 }]);

		await query(`UPDATE public.sync_segments_control SET status = 'paused' WHERE segment_id = 123;`);
		expect(await query(`select health from sync_segments_health where segment_id = 123`)).toEqual([{ health: 'paused' }]);
		await query(`UPDATE public.sync_segments_control SET status = 'active' WHERE segment_id = 123;`);
		expect(await query(`select health from sync_segments_health where segment_id = 123`)).toEqual([{ health: 'ok' }]);

		const recent = await query<{ segment_id: number; status: string }>(`SELECT * FROM public.sync_segments_logs ORDER BY execution_time DESC LIMIT 20;`);
		expect(recent.map((row) => row.status)).toEqual(['success', 'success', 'error', 'success']);
		expect(await query(`SELECT * FROM public.sync_segments_control;`)).toHaveLength(4);

		await query(`SELECT log_sync_execution(456, 'error', 'chamado por um script antigo', NULL, 12.5, 0);`);
		const [logged] = await query<Record<string, unknown>>(
			`select status, message, stats, duration_seconds, worker, finished_at - execution_time as took from sync_segments_logs order by id desc limit 1`,
		);
		expect(logged).toMatchObject({ status: 'failed', message: 'chamado por um script antigo', stats: {}, duration_seconds: '12.5', worker: 'log_sync_execution' });
		expect(logged.took).toMatchObject({ seconds: 12, milliseconds: 500 });
		await expect(query(`SELECT log_sync_execution(456, 'done', 'x');`)).rejects.toThrow(/p_status must be success or error/);

		// Like every function of the package: service_role only, not the API's anon or authenticated keys.
		const grants = await query(
			`select has_function_privilege('anon', 'public.log_sync_execution(integer,text,text,jsonb,numeric,numeric)', 'execute') as anon_log,
				has_function_privilege('anon', 'public.sync_segment_leads_via_edge_function()', 'execute') as anon_run,
				has_function_privilege('service_role', 'public.log_sync_execution(integer,text,text,jsonb,numeric,numeric)', 'execute') as service_log,
				has_sequence_privilege('service_role', 'public.sync_segments_control_id_seq', 'usage') as service_sequence`,
		);
		expect(grants).toEqual([{ anon_log: false, anon_run: false, service_log: true, service_sequence: true }]);
	});

	it('a second db push --include-roles changes nothing', async () => {
		const first = await databaseState(world.stack);
		const push = await supabaseDbPush(world.stack.databaseUrl, ['--include-roles']);
		expect(push.code).toBe(0);
		expect(push.output).toMatch(/up to date/i);
		expect(await databaseState(world.stack)).toEqual(first);
	});
});

describe('upgrade in place: a new database, and one that already has the package', () => {
	let stack: Stack;
	let oldMigrations: string;
	beforeAll(async () => {
		stack = await startStack({ migrations: false });
	});
	afterAll(async () => {
		await stack?.stop();
		if (oldMigrations) rmSync(oldMigrations, { recursive: true, force: true });
	});

	it('roles.sql does nothing on a new database', async () => {
		await stack.query(readFileSync(join(ROOT, 'supabase', 'roles.sql'), 'utf8'));
		expect(await stack.query(`select to_regnamespace('sync_internal') as internal, count(*)::int as tables from pg_tables where schemaname = 'public'`)).toEqual([
			{ internal: null, tables: 0 },
		]);
	});

	it('plain db push takes the new migrations (no --include-all), then --include-roles finds nothing to do', async () => {
		// Installed before this upgrade existed: every migration older than the compatibility one.
		oldMigrations = mkdtempSync(join(tmpdir(), 'sprinthub-old-migrations-'));
		for (const migration of listMigrations().filter((m) => m.version < COMPAT_VERSION)) {
			copyFileSync(migration.path, join(oldMigrations, `${migration.version}_${migration.name}.sql`));
		}
		const client = new Client({ connectionString: stack.databaseUrl });
		await client.connect();
		try {
			await applyMigrations(client, oldMigrations);
		} finally {
			await client.end();
		}
		await stack.query(`select sync_add_segment(4242, 'Clientes ativos', '0 6 * * *')`);
		const segment = await stack.query('select * from sync_segments_control');

		const push = await supabaseDbPush(stack.databaseUrl);
		expect(push.code).toBe(0);
		expect(push.output).not.toMatch(/inserted before the last migration/);
		for (const migration of listMigrations().filter((m) => m.version >= COMPAT_VERSION)) {
			expect(push.output).toContain(`Applying migration ${migration.version}_${migration.name}.sql`);
		}
		const again = await supabaseDbPush(stack.databaseUrl, ['--include-roles']);
		expect(again.code).toBe(0);
		expect(again.output).toMatch(/up to date/i);
		expect(await stack.query('select * from sync_segments_control')).toEqual(segment);
		// Nothing to take over here: no upgrade notes, no original functions.
		expect(
			await stack.query(`select to_regclass('sync_internal.upgrade_notes') as notes, to_regprocedure('public.sync_segment_leads_via_edge_function()') as run_now`),
		).toEqual([{ notes: null, run_now: null }]);
	});
});

describe('upgrade in place: a leads table that is not the package’s', () => {
	let stack: Stack;
	/** The original deployment's leads table (api.leads, ~80 columns) moved to public, with its data, index and API grant. */
	const FOREIGN_LEADS = `
		create table public.leads (
			id bigint primary key, firstname text, lastname text, email text, phone text, whatsapp text, city text, state text,
			${Array.from({ length: 72 }, (_, i) => `campo_${i + 1} text`).join(', ')}
		);
		create index leads_email_lower on public.leads (lower(email));
		insert into public.leads (id, firstname, email, campo_7) select g, 'Lead ' || g, 'lead' || g || '@example.com', 'x' from generate_series(1, 25) g;
		grant select on public.leads to anon;`;
	const leadsState = async () => ({
		table: await stack.query(
			`select c.relkind, c.reloptions, c.relrowsecurity, c.relacl::text as acl, (select count(*)::int from pg_attribute a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped) as columns
			from pg_class c where c.oid = 'public.leads'::regclass`,
		),
		indexes: await stack.query(`select indexname, indexdef from pg_indexes where schemaname = 'public' and tablename = 'leads' order by 1`),
		rows: await stack.query('select * from public.leads order by id'),
		control: await stack.query('select * from sync_segments_control order by id'),
		controlColumns: await stack.query(`select column_name, data_type from information_schema.columns where table_name = 'sync_segments_control' order by ordinal_position`),
		logs: await stack.query('select * from sync_segments_logs order by id'),
		applied: await stack.query(`select to_regclass('supabase_migrations.schema_migrations') is not null as history`),
	});

	beforeAll(async () => {
		stack = await startStack({ migrations: false });
		await stack.query(ORIGINAL_SETUP_SQL);
		await stack.query(ORIGINAL_HISTORY_SQL);
		await stack.query(FOREIGN_LEADS);
	});
	afterAll(() => stack?.stop());

	it('db push --include-roles stops with what it found and how to proceed, and changes nothing', async () => {
		const before = await leadsState();
		const push = await supabaseDbPush(stack.databaseUrl, ['--include-roles']);
		expect(push.code).not.toBe(0);
		expect(push.output).toContain(
			'public.leads is not this package\'s leads table: it is a table with 80 columns (id, firstname, lastname, email, phone, whatsapp, city, state, campo_1, campo_2, campo_3, campo_4, …) and lacks raw jsonb, change_marker text',
		);
		expect(push.output).toContain('nothing was changed and no migration was applied');
		expect(push.output).toContain('alter table public.leads rename to leads_before_sprinthub_sync;');
		expect(push.output).not.toContain('Applying migration');
		expect(await leadsState()).toEqual(before);
		expect(before.applied).toEqual([{ history: false }]);
	});

	it('without --include-roles the first migration fails on it too, and it stays untouched', async () => {
		const before = await leadsState();
		const push = await supabaseDbPush(stack.databaseUrl);
		expect(push.code).not.toBe(0);
		expect(await leadsState()).toEqual({ ...before, applied: expect.anything() });
		expect(await stack.query('select count(*)::int as n from supabase_migrations.schema_migrations')).toEqual([{ n: 0 }]);
	});

	it('renamed as the message says, the package installs next to it and leaves it as it was', async () => {
		const rows = await stack.query('select * from public.leads order by id');
		await stack.query('alter table public.leads rename to leads_before_sprinthub_sync;');
		const push = await supabaseDbPush(stack.databaseUrl, ['--include-roles']);
		expect(push.code).toBe(0);
		expect(await stack.query('select * from public.leads_before_sprinthub_sync order by id')).toEqual(rows);
		expect(await stack.query(`select count(*)::int as n from public.leads`)).toEqual([{ n: 0 }]);
		expect(await stack.query(`select segment_id::int from sync_segments_control order by 1`)).toEqual([{ segment_id: 123 }, { segment_id: 456 }, { segment_id: 789 }]);
	});
});
