import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SyncStore } from '../../engine/store';
import { applyMigrations, listMigrations } from '../support/migrations';
import { startStack, type Stack } from '../support/stack';
import { Client } from 'pg';

const run = promisify(execFile);
const SUPABASE_CLI = require.resolve('supabase/dist/supabase.js');

/** The real Supabase CLI (pinned 2.117.0) applies supabase/migrations the way users deploy them. */
describe('migrations applied with the real Supabase CLI (supabase db push --db-url)', () => {
	let stack: Stack;
	beforeAll(async () => {
		stack = await startStack({ migrations: false });
	});
	afterAll(() => stack?.stop());

	const dbUrl = () => {
		const url = new URL(stack.databaseUrl);
		url.searchParams.set('sslmode', 'disable');
		return url.toString();
	};

	it('applies every migration in order, and the project then works through PostgREST', async () => {
		const { stdout, stderr } = await run(process.execPath, [SUPABASE_CLI, 'db', 'push', '--db-url', dbUrl(), '--yes'], {
			cwd: `${__dirname}/../..`,
			timeout: 60_000,
		});
		const output = stdout + stderr;
		for (const migration of listMigrations()) expect(output).toContain(`Applying migration ${migration.version}_${migration.name}.sql`);
		const applied = await stack.query<{ version: string }>('select version from supabase_migrations.schema_migrations order by version');
		expect(applied.map((row) => row.version)).toEqual(listMigrations().map((m) => m.version));

		await stack.reloadSchema();
		const store = SyncStore.connect({ url: stack.supabaseUrl, serviceRoleKey: stack.serviceRoleKey });
		const control = await store.addSegment(4242, { name: 'Pushed by the CLI', schedule: '0 6 * * *' });
		expect(control).toMatchObject({ segment_id: 4242, segment_name: 'Pushed by the CLI', status: 'active' });
	});

	it('agrees with the test stack’s applier and the CLI about what is applied (nothing left to apply)', async () => {
		const { stdout, stderr } = await run(process.execPath, [SUPABASE_CLI, 'db', 'push', '--db-url', dbUrl(), '--yes'], {
			cwd: `${__dirname}/../..`,
			timeout: 60_000,
		});
		expect(stdout + stderr).toMatch(/up to date/i);
		const client = new Client({ connectionString: stack.databaseUrl });
		await client.connect();
		try {
			expect(await applyMigrations(client)).toEqual([]);
		} finally {
			await client.end();
		}
	});
});
