import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from 'pg';

export const MIGRATIONS_DIR = join(__dirname, '..', '..', 'supabase', 'migrations');

export interface MigrationFile {
	version: string;
	name: string;
	path: string;
}

/** `supabase/migrations/<version>_<name>.sql`, in the order the Supabase CLI applies them. */
export function listMigrations(dir = MIGRATIONS_DIR): MigrationFile[] {
	return readdirSync(dir)
		.filter((file) => /^\d+_.+\.sql$/.test(file))
		.sort()
		.map((file) => {
			const [, version, name] = /^(\d+)_(.+)\.sql$/.exec(file)!;
			return { version, name, path: join(dir, file) };
		});
}

/**
 * Applies the migrations the way `supabase db push` does (each file once, in order, recorded in
 * supabase_migrations.schema_migrations), so a database migrated here and one migrated by the CLI
 * agree about what is applied.
 */
export async function applyMigrations(client: Client, dir = MIGRATIONS_DIR): Promise<string[]> {
	await client.query(`create schema if not exists supabase_migrations;
		create table if not exists supabase_migrations.schema_migrations (version text primary key, statements text[], name text);`);
	const applied = new Set(
		(await client.query<{ version: string }>('select version from supabase_migrations.schema_migrations')).rows.map((r) => r.version),
	);
	const done: string[] = [];
	for (const migration of listMigrations(dir)) {
		if (applied.has(migration.version)) continue;
		const sql = readFileSync(migration.path, 'utf8');
		try {
			await client.query('begin');
			await client.query(sql);
			await client.query('insert into supabase_migrations.schema_migrations (version, statements, name) values ($1, $2, $3)', [
				migration.version,
				[sql],
				migration.name,
			]);
			await client.query('commit');
		} catch (error) {
			await client.query('rollback');
			throw new Error(`migration ${migration.version}_${migration.name}.sql failed: ${(error as Error).message}`);
		}
		done.push(migration.version);
	}
	return done;
}
