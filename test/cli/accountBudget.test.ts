/**
 * Issue 11: one SprintHub budget for every process of an account. Several real command-line processes
 * sync different segments of one simulated account whose server allows L calls per window; the
 * account's rate is set to 0.9 L with `sprinthub-sync account rate`. Together they stay within it (no
 * throttled call), and a process SIGKILLed while it holds budget tokens does not make the others go
 * faster.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCliBundle, rateFigures, startCli, waitUntil, worldEnv, type CliProcess } from '../support/cliProcesses';
import { startSyncWorld, truthMemberIds, type SyncWorld } from '../support/world';

/** The server: 200 calls in any 20 s (600 a minute). The account: 540 a minute (0.9 L). */
const SERVER = { requests: 200, windowMs: 20_000, mode: '429' as const };
const ACCOUNT_RATE = 540;
/**
 * Calls in any span may exceed rate × span by the bucket's capacity (a quarter second of calls, see the
 * migration) plus what a process may still hold due (it keeps at most 1 s of due, unspent slots).
 */
const TOLERANCE = Math.ceil(ACCOUNT_RATE / 240) + ACCOUNT_RATE / 60;

let world: SyncWorld;
let workDir: string;
let bundle: string;
const children = new Set<CliProcess>();

function cli(args: string[]): CliProcess {
	const proc = startCli(bundle, args, worldEnv(world), workDir);
	children.add(proc);
	void proc.done.then(() => children.delete(proc));
	return proc;
}

beforeAll(async () => {
	world = await startSyncWorld({
		seed: 23,
		segments: [
			{ id: 801, name: 'First', size: 40 },
			{ id: 802, name: 'Second', size: 40 },
			{ id: 803, name: 'Third', size: 40 },
			{ id: 811, name: 'Killed', size: 200 },
			{ id: 812, name: 'Survivor A', size: 40 },
			{ id: 813, name: 'Survivor B', size: 40 },
		],
	});
	await world.addSegments(801, 802, 803, 811, 812, 813);
	workDir = mkdtempSync(join(tmpdir(), 'sprinthub-account-budget-'));
	bundle = await buildCliBundle(workDir);
	const set = await cli(['account', 'rate', String(ACCOUNT_RATE)]).done;
	expect(set.code).toBe(0);
	expect(set.stdout).toContain(`requests per minute: ${ACCOUNT_RATE} for every process together`);
	world.sim.setRateLimit(SERVER);
}, 120_000);

afterAll(async () => {
	for (const proc of children) proc.child.kill('SIGKILL');
	await world?.stop();
	if (workDir) rmSync(workDir, { recursive: true, force: true });
});

it('three CLI processes asking for 60,000 a minute each stay within the account budget together: no throttled call, every segment equal to SprintHub', async () => {
	world.sim.resetLog();
	const runs = await Promise.all([801, 802, 803].map((id) => cli(['sync', String(id), '--rate', '60000', '--progress', 'lines']).done));
	for (const run of runs) expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
	const figures = rateFigures(world.sim.requests, SERVER.windowMs);
	expect(figures.throttled).toBe(0);
	expect(figures.maxInWindow).toBeLessThanOrEqual(SERVER.requests);
	// Combined: never more than the bucket's capacity plus the account rate over the time they ran.
	expect(figures.calls).toBeLessThanOrEqual(TOLERANCE + (ACCOUNT_RATE * figures.spanSeconds) / 60);
	for (const id of [801, 802, 803]) expect(await world.memberIds(id)).toEqual(truthMemberIds(world.sim, id));
	const [row] = await world.stack.query<Record<string, unknown>>('select * from sync_account_budgets');
	expect(row).toMatchObject({ instance: world.sim.instance, requests_per_minute: String(ACCOUNT_RATE), throttled_total: '0' });
	expect(JSON.stringify(row)).not.toContain(world.sim.token);
}, 120_000);

it('a process SIGKILLed while it holds budget tokens: the others carry on within the budget', async () => {
	world.sim.resetLog();
	const [granted0] = await world.stack.query<{ granted_total: string }>('select granted_total from sync_account_budgets');
	const victim = cli(['sync', '811', '--progress', 'lines']);
	const survivors = [812, 813].map((id) => cli(['sync', String(id), '--progress', 'lines']));
	// Killed in the middle of its detail calls: it always holds reserved slots then.
	await waitUntil('the victim to be fetching details', () => world.sim.requests.filter((entry) => entry.endpoint === 'leadDetail').length > 30);
	victim.child.kill('SIGKILL');
	expect((await victim.done).signal).toBe('SIGKILL');
	const runs = await Promise.all(survivors.map((proc) => proc.done));
	for (const run of runs) expect(run.code).toBe(0);
	for (const id of [812, 813]) expect(await world.memberIds(id)).toEqual(truthMemberIds(world.sim, id));
	const figures = rateFigures(world.sim.requests, SERVER.windowMs);
	expect(figures.throttled).toBe(0);
	expect(figures.calls).toBeLessThanOrEqual(TOLERANCE + (ACCOUNT_RATE * figures.spanSeconds) / 60);
	// Tokens granted but never sent (the victim's lease, in-flight calls) are lost, never reused.
	const [granted1] = await world.stack.query<{ granted_total: string }>('select granted_total from sync_account_budgets');
	expect(Number(granted1.granted_total) - Number(granted0.granted_total)).toBeGreaterThanOrEqual(figures.calls);
}, 120_000);
