/** A throw-away Redis (the machine's redis-server) on 127.0.0.1 and a free port, for n8n queue mode. */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { freePort, killProcessGroup, runCommand, sleep, spawnInGroup } from './processes';

export interface TestRedis {
	host: string;
	port: number;
	/** QUEUE_BULL_* variables for n8n main and worker processes. */
	n8nEnv(): Record<string, string>;
	stop(): Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-redis-'));
	const port = await freePort();
	const child: ChildProcess = spawnInGroup(
		'redis-server',
		['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
		{ stdio: 'ignore' },
	);
	const deadline = Date.now() + 10_000;
	for (;;) {
		const ping = await runCommand('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'ping'], { env: process.env, timeoutMs: 5000 });
		if (ping.stdout.trim() === 'PONG') break;
		if (Date.now() > deadline) {
			await killProcessGroup(child, 2000);
			throw new Error(`redis-server on port ${port} did not answer PING`);
		}
		await sleep(100);
	}
	return {
		host: '127.0.0.1',
		port,
		n8nEnv: () => ({ EXECUTIONS_MODE: 'queue', QUEUE_BULL_REDIS_HOST: '127.0.0.1', QUEUE_BULL_REDIS_PORT: String(port) }),
		async stop() {
			await killProcessGroup(child, 5000);
			fs.rmSync(dir, { recursive: true, force: true });
		},
	};
}
