import { createClient } from '@supabase/supabase-js';
import ws from 'ws';
import { startStack, type Stack } from '../support/stack';

const clientFor = (stack: Stack, key: string) =>
	createClient(stack.supabaseUrl, key, {
		auth: { persistSession: false, autoRefreshToken: false },
		realtime: { transport: ws as never },
	});

describe('test stack: real PostgreSQL + PostgREST 12 behind a Supabase-like gateway', () => {
	let stack: Stack;

	beforeAll(async () => {
		stack = await startStack({ migrations: false });
		await stack.query(`create table public.stack_probe (id bigint primary key, name text, note text);
			alter table public.stack_probe enable row level security;
			grant select, insert, update, delete on public.stack_probe to service_role;`);
		await stack.reloadSchema();
	});
	afterAll(() => stack?.stop());

	it('lets supabase-js upsert and read with the service role key, unchanged', async () => {
		const supabase = clientFor(stack, stack.serviceRoleKey);
		const { error } = await supabase.from('stack_probe').upsert([
			{ id: 1, name: 'Ana', note: 'a' },
			{ id: 2, name: 'Bia', note: 'b' },
		]);
		expect(error).toBeNull();
		const { error: againError } = await supabase.from('stack_probe').upsert([{ id: 1, name: 'Ana Maria', note: 'a' }]);
		expect(againError).toBeNull();
		const { data, error: readError } = await supabase.from('stack_probe').select('id,name').order('id');
		expect(readError).toBeNull();
		expect(data).toEqual([
			{ id: 1, name: 'Ana Maria' },
			{ id: 2, name: 'Bia' },
		]);
		expect(await stack.query('select count(*)::int as n from public.stack_probe')).toEqual([{ n: 2 }]);
	});

	it('refuses an unknown key at the gateway with 401 like Supabase, before the database', async () => {
		const supabase = clientFor(stack, 'not-a-key-of-this-project');
		const { error, status } = await supabase.from('stack_probe').select('id');
		expect(status).toBe(401);
		expect(error?.message).toBe('Invalid API key');
	});

	it('gives anon and authenticated keys nothing on a table granted only to service_role', async () => {
		for (const key of [stack.anonKey, stack.authenticatedKey]) {
			const { error, status } = await clientFor(stack, key).from('stack_probe').select('id');
			expect([401, 403]).toContain(status);
			expect(error?.code).toBe('42501');
		}
	});

	it('maps only /rest/v1 and logs what passed', async () => {
		const res = await fetch(`${stack.supabaseUrl}/auth/v1/health`, { headers: { apikey: stack.serviceRoleKey } });
		expect(res.status).toBe(404);
		expect(stack.gateway.requests.some((r) => r.path === '/rest/v1/stack_probe' && r.status < 300)).toBe(true);
	});

	it('answers injected faults instead of PostgREST, for the given number of requests', async () => {
		stack.gateway.addFault({ method: 'POST', path: /stack_probe/, status: 503, body: '{"message":"down"}', times: 1 });
		const supabase = clientFor(stack, stack.serviceRoleKey);
		const first = await supabase.from('stack_probe').upsert({ id: 3, name: 'Cid' });
		expect(first.status).toBe(503);
		const second = await supabase.from('stack_probe').upsert({ id: 3, name: 'Cid' });
		expect(second.error).toBeNull();
	});
});

describe('test stack lifecycle', () => {
	it('removes its database and stops PostgREST on stop()', async () => {
		const stack = await startStack({ migrations: false });
		const alive = (pid: number) => {
			try {
				process.kill(pid, 0);
				return true;
			} catch {
				return false;
			}
		};
		expect(alive(stack.postgrestPid)).toBe(true);
		const name = stack.databaseName;
		const { Client } = await import('pg');
		await stack.stop();
		expect(alive(stack.postgrestPid)).toBe(false);
		const admin = new Client({ connectionString: process.env.DATABASE_URL });
		await admin.connect();
		const { rows } = await admin.query('select 1 from pg_database where datname = $1', [name]);
		await admin.end();
		expect(rows).toHaveLength(0);
	});
});

describe('databases left by a killed run', () => {
	it('are dropped by the next stack on the same machine', async () => {
		const { Client } = await import('pg');
		const admin = new Client({ connectionString: process.env.DATABASE_URL });
		await admin.connect();
		// A pid that cannot be alive: above the kernel's pid limit.
		const orphan = 'sprinthub_sync_4194999_deadbeef';
		await admin.query(`create database ${orphan}`);
		const stack = await startStack({ migrations: false });
		await stack.stop();
		const { rows } = await admin.query('select 1 from pg_database where datname = $1', [orphan]);
		await admin.end();
		expect(rows).toHaveLength(0);
	});
});
