import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { SyncProgressEvent } from '../../engine';
import { waitFor } from '../support/net';
import { startSyncWorld, type SyncWorld } from '../support/world';
import { expectSegmentMatchesTruth, requestedPages, runLog } from './fixtures/syncTruth';

const CHILD = join(__dirname, 'fixtures', 'syncChild.ts');

type Control = {
	checkpoint: { nextPage: number; limit: number; walk: number } | null;
	lease_owner: string | null;
	last_status: string;
};

async function control(world: SyncWorld, segmentId: number): Promise<Control> {
	const [row] = await world.stack.query<Control>('select checkpoint, lease_owner, last_status from sync_segments_control where segment_id = $1', [segmentId]);
	return row;
}

/** Scenarios 7, 8 and 11 of issue 4: a killed process, a cancelled run, two engines on one segment. */
describe('sync interrupted: killed, cancelled, raced; nothing lost or doubled, the next run resumes', () => {
	let world: SyncWorld;
	beforeAll(async () => {
		world = await startSyncWorld({
			seed: 53,
			segments: [
				{ id: 601, name: 'Killed', size: 900 },
				{ id: 602, name: 'Cancelled', size: 900 },
				{ id: 603, name: 'Raced', size: 400 },
				{ id: 604, name: 'Restless', size: 300 },
			],
		});
		await world.addSegments(601, 602, 603, 604);
	}, 180_000);
	afterAll(() => world?.stop());

	it('a process killed with SIGKILL mid-run: the lease is taken over after it expires and the pass completes from the checkpoint', async () => {
		world.sim.resetLog();
		// The child is held in page 3's detail calls (pages 0-2 written and checkpointed): the simulator
		// keeps the detail call of page 3's first lead unanswered until the child is killed. Neither the
		// kill nor the lease races a timer, however slow the machine. (sim.close() ends the held wait.)
		const heldLead = world.sim.truth.segmentMemberIds(601)[300];
		world.sim.faults.add({ kind: 'delay', delayMs: 10 * 60_000, endpoint: 'leadDetail', path: `/leads/${heldLead}` });
		const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
			env: {
				...process.env,
				SIM_URL: world.sim.baseUrl,
				SIM_INSTANCE: world.sim.instance,
				SIM_TOKEN: world.sim.token,
				SUPABASE_URL: world.stack.supabaseUrl,
				SUPABASE_SERVICE_KEY: world.stack.serviceRoleKey,
				SEGMENT_ID: '601',
				PAGE_SIZE: '100',
			},
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let stderr = '';
		child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
		const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
		const events: (SyncProgressEvent | { type: 'result' })[] = [];
		const lines = createInterface({ input: child.stdout });
		lines.on('line', (line) => events.push(JSON.parse(line) as SyncProgressEvent | { type: 'result' }));
		const stdoutClosed = new Promise<void>((resolve) => lines.once('close', () => resolve()));
		// The ceiling only bounds a hang (a child that never gets there): the wait ends when it arrives.
		const reached = await waitFor(
			"the child to reach page 3's held detail call",
			async () => {
				// Writes go behind fetching: page 3's calls start while page 2 is written; wait for its checkpoint too.
				if (world.sim.requests.some((entry) => entry.fault === 'delay') && (await control(world, 601)).checkpoint?.nextPage === 3) return 'held';
				if (child.exitCode !== null || child.signalCode !== null) return 'exited';
				return undefined;
			},
			90_000,
			20,
		);
		if (reached === 'exited') throw new Error(`the child exited on its own: ${stderr}`);
		const killedAt = world.sim.requests.filter((entry) => entry.endpoint === 'segmentLeads').length;
		child.kill('SIGKILL');
		expect(await exited).toBe('SIGKILL');
		expect(killedAt).toBeGreaterThanOrEqual(4);
		world.sim.faults.clear();
		await stdoutClosed;
		// What the child reported before it died: pages 0-3 read, never a result.
		expect(events.filter((event) => event.type === 'page').map((event) => (event as { page: number }).page)).toEqual([0, 1, 2, 3]);
		expect(events.some((event) => event.type === 'result')).toBe(false);

		const left = await control(world, 601);
		expect(left.lease_owner).toBe(`child:${child.pid}`);
		expect(left.checkpoint?.nextPage).toBe(3);
		const [{ run_id: childRun }] = await world.stack.query<{ run_id: string }>("select run_id from sync_segments_logs where segment_id = 601 and status = 'running'");

		// While the dead worker's lease lasts, the segment is busy; once it expired, it is taken over.
		const [busy] = await world.engine().syncSegments([601], { trigger: 'manual' });
		expect(busy.status).toBe('skipped');
		// The lease (300 s by default) runs out: its expiry is moved into the past in the database instead of
		// waited for. That a lease expires with time is store.test.ts's "an expired lease is taken over".
		await world.stack.query("update sync_segments_control set lease_expires_at = now() - interval '1 second' where segment_id = 601");
		world.sim.resetLog();
		const [result] = await world.engine().syncSegments([601], { trigger: 'manual', pageSize: 100 });
		expect(result).toMatchObject({ status: 'success', complete: true, resumed: true });
		const pages = requestedPages(world, 601).map((page) => page.page);
		expect(pages[0]).toBe(left.checkpoint!.nextPage);
		const truth = await expectSegmentMatchesTruth(world, 601);
		expect(pages.length).toBe(Math.ceil(truth.length / 100) + 1 - left.checkpoint!.nextPage);
		// Leads of the page the child was killed in may have been fetched twice; none is stored twice.
		const [{ n }] = await world.stack.query<{ n: number }>('select count(*)::int as n from leads where id = any($1::bigint[])', [truth]);
		expect(n).toBe(truth.length);
		const childLog = await runLog(world, childRun);
		expect(childLog.status).toBe('failed');
		expect(childLog.message).toMatch(/lease .* expired .* taken over/);
		expect((await control(world, 601)).checkpoint).toBeNull();
	}, 180_000);

	it('cancelled through its AbortSignal: status cancelled in the result and the log, checkpoint kept, the next run resumes', async () => {
		world.sim.resetLog();
		const abort = new AbortController();
		const detailCalls = () => world.sim.requests.filter((entry) => entry.endpoint === 'leadDetail').length;
		let detailCallsAtAbort = -1;
		const [cancelled] = await world.engine().syncSegments([602], {
			trigger: 'manual',
			pageSize: 100,
			signal: abort.signal,
			onProgress: (event) => {
				if (event.type === 'details' && event.done >= 50 && event.planned > 50 && !abort.signal.aborted) {
					detailCallsAtAbort = detailCalls();
					abort.abort();
				}
			},
		});
		expect(cancelled.status).toBe('cancelled');
		expect(cancelled.error).toMatchObject({ errorClass: 'cancelled' });
		// Stopped at once: no further page read, and no detail call begun after the abort beyond the
		// three that the other workers (4 at once) may already have had on the way.
		expect(world.sim.requests.filter((entry) => entry.endpoint === 'segmentLeads')).toHaveLength(1);
		expect(detailCallsAtAbort).toBeGreaterThanOrEqual(50);
		expect(detailCalls()).toBeLessThanOrEqual(detailCallsAtAbort + 3);
		expect(await runLog(world, cancelled.runId)).toMatchObject({ status: 'cancelled' });
		const left = await control(world, 602);
		expect(left).toMatchObject({ lease_owner: null, last_status: 'cancelled' });
		// Stopped in page 0's detail calls: the checkpoint is still at page 0, nothing of that page was lost.
		expect(left.checkpoint === null || left.checkpoint.nextPage === 0).toBe(true);

		// Cancel again later, after a few pages were written.
		const later = new AbortController();
		const [second] = await world.engine().syncSegments([602], {
			trigger: 'manual',
			pageSize: 100,
			signal: later.signal,
			onProgress: (event) => event.type === 'page' && event.page === 4 && later.abort(),
		});
		expect(second.status).toBe('cancelled');
		const checkpoint = (await control(world, 602)).checkpoint;
		expect(checkpoint?.nextPage).toBe(4);

		world.sim.resetLog();
		const [third] = await world.engine().syncSegments([602], { trigger: 'manual', pageSize: 100 });
		expect(third).toMatchObject({ status: 'success', complete: true, resumed: true });
		expect(requestedPages(world, 602)[0].page).toBe(4);
		await expectSegmentMatchesTruth(world, 602);
	}, 180_000);

	it('two engines sync the same segment at once: one runs, the other is skipped; the segment arrives once', async () => {
		const [a, b] = await Promise.all([
			world.engine().syncSegments([603], { trigger: 'manual' }),
			world.engine().syncSegments([603], { trigger: 'schedule' }),
		]);
		const statuses = [a[0].status, b[0].status].sort();
		expect(statuses).toEqual(['skipped', 'success']);
		const skipped = a[0].status === 'skipped' ? a[0] : b[0];
		expect(skipped.message).toMatch(/being synced by/);
		expect(skipped.runId).toBeNull();
		const truth = await expectSegmentMatchesTruth(world, 603);
		const winner = a[0].status === 'success' ? a[0] : b[0];
		expect(winner.stats.inserted + winner.stats.updated + winner.stats.unchanged).toBe(truth.length);
		const logs = await world.stack.query<{ status: string }>('select status from sync_segments_logs where segment_id = 603');
		expect(logs).toEqual([{ status: 'success' }]);
	}, 180_000);

	it('a segment that moves during every walk: the run gives up after its walks (partial), the next calm run completes', async () => {
		const joined: number[] = [];
		const [restless] = await world.engine().syncSegments([604], {
			trigger: 'manual',
			pageSize: 100,
			onProgress: (event) => {
				// A lead joins while every walk is under way.
				if (event.type === 'page' && event.page === 1) joined.push(...world.sim.mutate.join(604, 1, { newLeads: true }));
			},
		});
		expect(restless.status).toBe('partial');
		expect(restless.complete).toBe(false);
		expect(restless.stats.walks).toBe(3);
		expect(restless.message).toMatch(/kept changing/);
		const members = new Set(await world.memberIds(604));
		// Nobody lost even so: every joiner seen by a walk is a member already.
		expect(joined.slice(0, 2).filter((id) => !members.has(id))).toEqual([]);

		world.sim.resetLog();
		const [calm] = await world.engine().syncSegments([604], { trigger: 'manual', pageSize: 100 });
		expect(calm).toMatchObject({ status: 'success', complete: true });
		await expectSegmentMatchesTruth(world, 604);
		expect((await control(world, 604)).checkpoint).toBeNull();
	}, 180_000);
});
