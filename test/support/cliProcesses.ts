/**
 * Several real command-line processes against one world (stack + simulator): the CLI bundled as the
 * build bundles it, started as child processes with a user's environment, and what the simulator saw
 * of their combined rate. Used by the account-budget tests and benchmark.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import type { RequestLogEntry } from './simulator';
import type { SyncWorld } from './world';

const CLI_ENTRY = join(__dirname, '..', '..', 'cli', 'sprinthub-sync.ts');

/** Bundles the CLI into `dir` (as gulpfile.js does); returns the file to run with node. */
export async function buildCliBundle(dir: string): Promise<string> {
	const bundle = join(dir, 'sprinthub-sync.js');
	await esbuild.build({
		entryPoints: [CLI_ENTRY],
		outfile: bundle,
		bundle: true,
		platform: 'node',
		target: 'node20',
		format: 'cjs',
		external: ['n8n-workflow', 'bufferutil', 'utf-8-validate'],
		logLevel: 'error',
	});
	return bundle;
}

/** The environment a user would have: the world's five settings and nothing else of ours. */
export function worldEnv(world: SyncWorld): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [key, value] of Object.entries(process.env)) {
		if (!/^(VITE_)?(SPRINTHUB|SUPABASE)_/.test(key)) env[key] = value;
	}
	return Object.assign(env, {
		SPRINTHUB_BASE_URL: world.sim.baseUrl,
		SPRINTHUB_INSTANCE: world.sim.instance,
		SPRINTHUB_API_TOKEN: world.sim.token,
		SUPABASE_URL: world.stack.supabaseUrl,
		SUPABASE_SERVICE_ROLE_KEY: world.stack.serviceRoleKey,
	});
}

export interface CliRun {
	code: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	stderr: string;
}

export interface CliProcess {
	child: ChildProcess;
	run: CliRun;
	done: Promise<CliRun>;
}

export function startCli(bundle: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): CliProcess {
	const child = spawn(process.execPath, [bundle, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
	const run: CliRun = { code: null, signal: null, stdout: '', stderr: '' };
	child.stdout!.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
	child.stderr!.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
	const done = new Promise<CliRun>((resolve) =>
		child.once('close', (code, signal) => {
			run.code = code;
			run.signal = signal;
			resolve(run);
		}),
	);
	return { child, run, done };
}

export interface RateFigures {
	calls: number;
	throttled: number;
	/** From the first call's start to the last call's start. */
	spanSeconds: number;
	/** calls per minute over the span. */
	perMinute: number;
	/** Most calls that started within any window of `windowMs` (what a sliding-window server counts). */
	maxInWindow: number;
}

/** What the simulator saw of the combined rate. */
export function rateFigures(requests: readonly RequestLogEntry[], windowMs: number): RateFigures {
	const times = requests.map((entry) => entry.startedAt).sort((a, b) => a - b);
	let maxInWindow = 0;
	let first = 0;
	for (let last = 0; last < times.length; last++) {
		while (times[last] - times[first] >= windowMs) first++;
		maxInWindow = Math.max(maxInWindow, last - first + 1);
	}
	const spanSeconds = times.length > 1 ? (times[times.length - 1] - times[0]) / 1000 : 0;
	return {
		calls: times.length,
		throttled: requests.filter((entry) => entry.throttled).length,
		spanSeconds,
		perMinute: spanSeconds > 0 ? ((times.length - 1) / spanSeconds) * 60 : 0,
		maxInWindow,
	};
}

export async function waitUntil(what: string, condition: () => boolean, timeoutMs = 60_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!condition()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}
