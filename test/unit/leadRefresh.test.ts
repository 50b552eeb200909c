import { LeadRefresher, type LeadRefreshPorts } from '../../engine/sync/leadRefresh';
import type { LeadUpsertResult } from '../../engine/store';
import { flushMicrotasks, ManualClock } from '../support/manualClock';

/**
 * The coalescing of webhook hints for one lead, on a manual clock: a burst shares one detail call, a
 * hint during a fetch gets exactly one more, and a 404 writes nothing or marks a known lead deleted.
 * The database and SprintHub are ports here; the node tests and the e2e run them for real.
 */
interface Recorder extends LeadRefreshPorts {
	fetched: number[];
	written: Array<Record<string, unknown>>;
	marked: number[];
	/** Lets the fetch under way answer (fetches wait until released). */
	release(): void;
}

function ports(options: { known?: Set<number>; missing?: Set<number>; hold?: boolean } = {}): Recorder {
	const waiters: Array<() => void> = [];
	const recorder: Recorder = {
		fetched: [],
		written: [],
		marked: [],
		release: () => waiters.splice(0).forEach((resolve) => resolve()),
		fetchLead: async (id) => {
			recorder.fetched.push(id);
			if (options.hold) await new Promise<void>((resolve) => waiters.push(resolve));
			return options.missing?.has(id) ? null : { id, updatedDate: `2026-12-01T00:00:0${recorder.fetched.length}.000Z` };
		},
		writeLead: async (record) => {
			recorder.written.push(record);
			return { index: 0, id: record.id, status: 'updated', reason: null, cast_problems: null } satisfies LeadUpsertResult;
		},
		markDeleted: async (ids) => {
			const newly = ids.filter((id) => options.known?.has(id));
			recorder.marked.push(...newly);
			newly.forEach((id) => options.known?.delete(id));
			return newly;
		},
	};
	return recorder;
}

test('calls for one lead within the window share one fetch; other leads get their own', async () => {
	const clock = new ManualClock();
	const refresher = new LeadRefresher(clock);
	const recorder = ports();
	const calls = [7, 7, 8, 7, 8].map((id) => refresher.refresh('acct|db|public', id, 2000, recorder));
	await flushMicrotasks();
	expect(recorder.fetched).toEqual([]);
	await clock.advance(2000);
	const results = await Promise.all(calls);
	expect(recorder.fetched.sort()).toEqual([7, 8]);
	expect(results.map((r) => [r.id, r.status, r.shared])).toEqual([
		[7, 'updated', false],
		[7, 'updated', true],
		[8, 'updated', false],
		[7, 'updated', true],
		[8, 'updated', true],
	]);
	expect(refresher.pending).toBe(0);
});

test('a hint during a fetch waits for exactly one more fetch, which later hints join', async () => {
	const clock = new ManualClock();
	const refresher = new LeadRefresher(clock);
	const recorder = ports({ hold: true });
	const first = refresher.refresh('s', 9, 1000, recorder);
	await clock.advance(1000);
	expect(recorder.fetched).toEqual([9]);
	// The fetch is under way: these may describe a change it has not seen.
	const during = [refresher.refresh('s', 9, 1000, recorder), refresher.refresh('s', 9, 1000, recorder)];
	recorder.release();
	await first;
	await clock.advance(1000);
	expect(recorder.fetched).toEqual([9, 9]);
	recorder.release();
	const results = await Promise.all(during);
	expect(results.map((r) => r.shared)).toEqual([false, true]);
	expect(recorder.written.map((record) => record.updatedDate)).toEqual(['2026-12-01T00:00:01.000Z', '2026-12-01T00:00:02.000Z']);
	expect(refresher.pending).toBe(0);
});

test('the same lead in another scope (account or database) is fetched on its own', async () => {
	const clock = new ManualClock();
	const refresher = new LeadRefresher(clock);
	const recorder = ports();
	const calls = [refresher.refresh('a', 5, 10, recorder), refresher.refresh('b', 5, 10, recorder)];
	await clock.advance(10);
	await Promise.all(calls);
	expect(recorder.fetched).toEqual([5, 5]);
});

test('404: an unknown lead writes nothing; a known one is marked deleted once', async () => {
	const clock = new ManualClock();
	const refresher = new LeadRefresher(clock);
	const recorder = ports({ missing: new Set([1, 2]), known: new Set([2]) });
	const calls = [refresher.refresh('s', 1, 0, recorder), refresher.refresh('s', 2, 0, recorder)];
	await clock.advance(0);
	expect((await Promise.all(calls)).map((r) => [r.id, r.status])).toEqual([
		[1, 'notFound'],
		[2, 'deleted'],
	]);
	expect(recorder.written).toEqual([]);
	expect(recorder.marked).toEqual([2]);
	const again = refresher.refresh('s', 2, 0, recorder);
	await clock.advance(0);
	expect((await again).status).toBe('notFound');
});

test('a failing fetch fails every call that shared it, and the next call fetches again', async () => {
	const clock = new ManualClock();
	const refresher = new LeadRefresher(clock);
	const recorder = ports();
	let fail = true;
	const failing: LeadRefreshPorts = { ...recorder, fetchLead: async (id) => (fail ? Promise.reject(new Error('SprintHub unavailable')) : recorder.fetchLead(id)) };
	const calls = [refresher.refresh('s', 3, 100, failing), refresher.refresh('s', 3, 100, failing)];
	const settled = Promise.allSettled(calls);
	await clock.advance(100);
	expect((await settled).map((r) => r.status)).toEqual(['rejected', 'rejected']);
	fail = false;
	const next = refresher.refresh('s', 3, 100, failing);
	await clock.advance(100);
	expect((await next).status).toBe('updated');
	expect(refresher.pending).toBe(0);
});
