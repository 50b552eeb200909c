import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort, waitFor } from './net';

/** Debian's PostgreSQL 15 and its pg_cron (package postgresql-15-cron, which .ci/run installs). */
const BIN = '/usr/lib/postgresql/15/bin';
const PG_CRON = ['/usr/lib/postgresql/15/lib/pg_cron.so', '/usr/share/postgresql/15/extension/pg_cron.control'];

export interface PgCronCluster {
	/** Superuser URL of the database pg_cron lives in (cron.database_name). */
	databaseUrl: string;
	stop(): Promise<void>;
}

/**
 * A throwaway PostgreSQL 15 cluster with pg_cron preloaded (`shared_preload_libraries = 'pg_cron'`,
 * `cron.database_name = 'postgres'`) in a temporary folder, on a free loopback port; stop() shuts
 * it down and deletes the folder. Throws, naming the package, when pg_cron is not installed.
 */
export async function startPgCronCluster(): Promise<PgCronCluster> {
	const missing = [`${BIN}/initdb`, `${BIN}/postgres`, ...PG_CRON].filter((file) => !existsSync(file));
	if (missing.length > 0) {
		throw new Error(
			`pg_cron for PostgreSQL 15 is not installed (missing ${missing.join(', ')}): apt-get install -y postgresql-15-cron (.ci/run does it when missing).`,
		);
	}
	// PostgreSQL refuses to run as root: the cluster then belongs to the postgres system user.
	const owner = process.getuid?.() === 0 ? systemUser('postgres') : undefined;
	const dataDir = mkdtempSync(join(tmpdir(), 'sprinthub-pgcron-'));
	let server: ChildProcess | undefined;
	try {
		if (owner) chownSync(dataDir, owner.uid, owner.gid);
		execFileSync(`${BIN}/initdb`, ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--encoding=UTF8', '--locale=C', '--lc-messages=C'], {
			stdio: 'pipe',
			...owner,
		});
		const port = await freePort();
		server = spawn(
			`${BIN}/postgres`,
			['-D', dataDir, '-c', `port=${port}`, '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dataDir}`,
				'-c', 'shared_preload_libraries=pg_cron', '-c', 'cron.database_name=postgres', '-c', 'fsync=off'],
			{ stdio: ['ignore', 'ignore', 'pipe'], ...owner },
		);
		let log = '';
		server.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
		const child = server;
		const databaseUrl = `postgresql://postgres@127.0.0.1:${port}/postgres`;
		await waitFor(
			'PostgreSQL with pg_cron',
			async () => {
				if (child.exitCode !== null) throw new Error(`postgres exited: ${log}`);
				const client = new Client({ connectionString: databaseUrl });
				await client.connect();
				await client.end();
				return true;
			},
			30_000,
			100,
		);
		const kill = () => child.kill('SIGKILL');
		process.once('exit', kill);
		return {
			databaseUrl,
			stop: async () => {
				process.removeListener('exit', kill);
				await stopServer(child);
				rmSync(dataDir, { recursive: true, force: true });
			},
		};
	} catch (error) {
		if (server) await stopServer(server);
		rmSync(dataDir, { recursive: true, force: true });
		throw error;
	}
}

function systemUser(name: string): { uid: number; gid: number } {
	const line = readFileSync('/etc/passwd', 'utf8')
		.split('\n')
		.find((entry) => entry.startsWith(`${name}:`));
	if (!line) throw new Error(`no system user "${name}" to run PostgreSQL as (it refuses to run as root)`);
	const [, , uid, gid] = line.split(':');
	return { uid: Number(uid), gid: Number(gid) };
}

/** Fast shutdown (SIGINT: running transactions are rolled back), then SIGKILL if it hangs. */
function stopServer(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
	return new Promise((resolve) => {
		const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
		child.once('exit', () => {
			clearTimeout(killer);
			resolve();
		});
		child.kill('SIGINT');
	});
}
