import { SyncStore } from '../../engine/store';
import { leaversNeedConfirming } from '../../engine/sync/leaverConfirmation';
import { DatabaseCalls } from '../../engine/sync/databaseCalls';
import { PageWriter } from '../../engine/sync/pageWriter';
import { RunLease } from '../../engine/sync/runLease';
import { RunTally } from '../../engine/sync/runTally';
import type { PageLead } from '../../engine/store';
import type { SyncProgressEvent } from '../../engine/sync/ports';
import { startStack, type Stack } from '../support/stack';

/** The pieces of a run that talk to the database, each on its own, through real PostgREST. */

let stack: Stack;
let store: SyncStore;
let nextSegment = 7000;

beforeAll(async () => {
	stack = await startStack();
	store = SyncStore.connect({ url: stack.supabaseUrl, serviceRoleKey: stack.serviceRoleKey });
});
afterAll(async () => {
	await stack?.stop();
});

async function claimedRun(worker = 'worker-a'): Promise<{ segmentId: number; runId: string }> {
	const segmentId = nextSegment++;
	await store.addSegment(segmentId, { name: `Segment ${segmentId}`, schedule: '1 hour' });
	const [row] = await store.claim({ worker, segmentIds: [segmentId], trigger: 'manual' });
	return { segmentId, runId: row.run_id! };
}

const lead = (id: number): PageLead => ({
	id,
	record: { id, fullname: `Lead ${id}`, notes: 'x'.repeat(200), updatedDate: '2026-11-01T10:00:00.000Z' },
	marker: '2026-11-01T10:00:00.000Z',
	enriched: true,
});

describe('PageWriter', () => {
	it('writes a page in batches bounded by rows and bytes, with the checkpoint only in the last', async () => {
		const { segmentId, runId } = await claimedRun();
		const events: SyncProgressEvent[] = [];
		const tally = new RunTally((event) => events.push(event));
		const lease = new RunLease(store, null, undefined);
		const writer = new PageWriter({ segmentId, runId, store, db: new DatabaseCalls(lease.signal), tally }, { maxRows: 40, maxBytes: 5_000 });
		const writes = Array.from({ length: 100 }, (_, i) => lead(i + 1));
		await writer.write(writes, [{ id: 500 }, { id: 501 }], '1:0', { nextPage: 1, limit: 1000 }, 1);

		const batches = events.flatMap((event) => (event.type === 'written' ? [event.inserted] : []));
		// ~300 bytes a lead: the byte bound cuts before the row bound; each batch is as full as it can be.
		let from = 0;
		for (const [index, size] of batches.entries()) {
			const batch = writes.slice(from, from + size);
			expect(size).toBeLessThanOrEqual(40);
			expect(Buffer.byteLength(JSON.stringify(batch))).toBeLessThanOrEqual(5_000);
			if (index < batches.length - 1) expect(Buffer.byteLength(JSON.stringify(writes.slice(from, from + size + 1)))).toBeGreaterThan(5_000);
			from += size;
		}
		expect(from).toBe(100);
		expect(batches.length).toBeGreaterThan(100 / 40);
		expect(tally.stats).toMatchObject({ inserted: 100, joined: 102 });
		const [control] = await stack.query<{ checkpoint: unknown }>('select checkpoint from sync_segments_control where segment_id = $1', [segmentId]);
		expect(control.checkpoint).toEqual({ nextPage: 1, limit: 1000 });
		const keys = await stack.query<{ page_key: string }>('select page_key from sync_run_pages where run_id = $1 order by applied_at, page_key', [runId]);
		expect(keys.map((row) => row.page_key).sort()).toEqual(Array.from({ length: batches.length }, (_, part) => `1:0:${part}`).sort());
	});

	it('a page written again under the same key counts once (a retried or resumed page)', async () => {
		const { segmentId, runId } = await claimedRun();
		const tally = new RunTally();
		const lease = new RunLease(store, null, undefined);
		const writer = new PageWriter({ segmentId, runId, store, db: new DatabaseCalls(lease.signal), tally });
		const writes = Array.from({ length: 10 }, (_, i) => lead(2000 + i));
		await writer.write(writes, [], '1:0', null, 1);
		await writer.write(writes, [], '1:0', null, 1);
		expect(tally.stats.inserted).toBe(10);
		expect(await stack.query('select count(*)::int as n from sync_segment_leads where segment_id = $1', [segmentId])).toEqual([{ n: 10 }]);
	});
});

describe('leaversNeedConfirming', () => {
	it('asks for a second walk only when the run has not seen members the database holds', async () => {
		const { segmentId, runId } = await claimedRun();
		const lease = new RunLease(store, null, undefined);
		const tally = new RunTally();
		const writer = new PageWriter({ segmentId, runId, store, db: new DatabaseCalls(lease.signal), tally });
		await writer.write([lead(3001), lead(3002), lead(3003)], [], '1:0', null, 1);
		await store.finish(runId, { status: 'success', complete: true });

		const second = await store.claim({ worker: 'worker-a', segmentIds: [segmentId], trigger: 'manual' });
		const secondRun = second[0].run_id!;
		const run = { runId: secondRun, store, db: new DatabaseCalls(lease.signal), tally };
		const secondWriter = new PageWriter({ segmentId, runId: secondRun, store, db: new DatabaseCalls(lease.signal), tally });
		await secondWriter.write([], [{ id: 3001 }, { id: 3002 }], '1:0', null, 1);
		expect(await leaversNeedConfirming(run)).toBe(true); // 3003 was not seen
		await secondWriter.write([], [{ id: 3003 }], '1:1', null, 1);
		expect(await leaversNeedConfirming(run)).toBe(false);
	});
});

describe('RunLease', () => {
	it('stops the run with lease_lost when another worker took the segment over', async () => {
		const { segmentId, runId } = await claimedRun('worker-a');
		// The lease runs out (as if this worker had stalled) and worker-b takes the segment; then
		// worker-a's heartbeat beats (before, a beat could renew the lease ahead of the takeover).
		await stack.query(`update sync_segments_control set lease_expires_at = now() - interval '1 second' where segment_id = $1`, [segmentId]);
		const [takeover] = await store.claim({ worker: 'worker-b', segmentIds: [segmentId], trigger: 'manual' });
		expect(takeover.outcome).toBe('claimed');
		const lease = new RunLease(store, runId, undefined, 50);
		await new Promise<void>((resolve) => lease.signal.addEventListener('abort', () => resolve(), { once: true }));
		lease.release();
		expect(lease.lost?.toJSON()).toMatchObject({ errorClass: 'system', code: 'lease_lost' });
		expect(() => lease.throwIfStopped()).toThrow(lease.lost!);
	});

	it('stops the run as cancelled when the caller aborts, and renews nothing after release', async () => {
		const { runId } = await claimedRun('worker-a');
		const caller = new AbortController();
		const lease = new RunLease(store, runId, caller.signal, 60_000);
		expect(() => lease.throwIfStopped()).not.toThrow();
		caller.abort();
		expect(lease.signal.aborted).toBe(true);
		expect(() => lease.throwIfStopped()).toThrow(expect.objectContaining({ errorClass: 'cancelled' }));
		expect(lease.lost).toBeNull();
		lease.release();
	});
});
