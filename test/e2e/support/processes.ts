/** Free ports, child processes in their own process group, and checks that nothing is left running. */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';

export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			const port = typeof address === 'object' && address ? address.port : 0;
			server.close(() => resolve(port));
		});
	});
}

export interface CommandResult {
	code: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	stderr: string;
	durationMs: number;
}

/**
 * Runs a command to completion in its own process group, capturing output (never through a pipe
 * that closes early: n8n spins on EPIPE). On timeout the whole group is killed and an error thrown.
 */
export async function runCommand(
	command: string,
	args: string[],
	options: { cwd?: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<CommandResult> {
	const started = Date.now();
	const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
	let stdout = '';
	let stderr = '';
	child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
	child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
	let timedOut = false;
	const timer = setTimeout(() => {
		timedOut = true;
		void killProcessGroup(child, 2000);
	}, options.timeoutMs);
	const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
		child.on('error', reject);
		child.on('close', (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
	});
	clearTimeout(timer);
	// Children of the command (e.g. n8n's task runner) must not outlive it.
	if (child.pid !== undefined && processGroupAlive(child.pid)) await killProcessGroup(child, 5000);
	if (timedOut) {
		throw new Error(`${args.join(' ')} timed out after ${options.timeoutMs} ms\n${tail(stdout + stderr, 40)}`);
	}
	return { code, signal, stdout, stderr, durationMs: Date.now() - started };
}

export function spawnInGroup(command: string, args: string[], options: SpawnOptions): ChildProcess {
	return spawn(command, args, { ...options, detached: true });
}

export function processGroupAlive(pgid: number): boolean {
	try {
		process.kill(-pgid, 0);
		return true;
	} catch {
		return false;
	}
}

/** SIGKILL to the whole group (no grace, as a crash or an OOM kill); resolves once the group is gone. */
export async function sigkillProcessGroup(pgid: number): Promise<void> {
	try {
		process.kill(-pgid, 'SIGKILL');
	} catch {
		return;
	}
	while (processGroupAlive(pgid)) await sleep(50);
}

/** SIGTERM to the whole group, then SIGKILL after `graceMs` if anything in it is still alive. */
export async function killProcessGroup(child: ChildProcess, graceMs: number): Promise<void> {
	const pgid = child.pid;
	if (pgid === undefined || !processGroupAlive(pgid)) return;
	try {
		process.kill(-pgid, 'SIGTERM');
	} catch {
		return;
	}
	const deadline = Date.now() + graceMs;
	while (Date.now() < deadline) {
		if (!processGroupAlive(pgid)) return;
		await sleep(100);
	}
	await sigkillProcessGroup(pgid);
}

/**
 * Pids of every process whose environment contains `marker` (e.g. `N8N_USER_FOLDER=<dir>`), so a test
 * can prove that no n8n process or task runner of an instance survived, whatever its process group.
 */
export function processesWithEnvironment(marker: string): number[] {
	const found: number[] = [];
	for (const entry of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
		try {
			const environ = fs.readFileSync(`/proc/${entry}/environ`, 'utf8');
			if (environ.split('\0').includes(marker)) found.push(Number(entry));
		} catch {
			// The process ended meanwhile, or is not readable: not ours.
		}
	}
	return found;
}

export function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

export function tail(text: string, lines: number): string {
	return text.split('\n').slice(-lines).join('\n');
}
