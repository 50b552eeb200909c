import { RunTally } from '../../../engine/sync/runTally';
import type { FinishResult } from '../../../engine/store';
import type { SyncProgressEvent } from '../../../engine/sync/ports';

describe('RunTally: what a run reports', () => {
	it('counts a segment walked twice once: leads seen and unchanged come from the larger walk', () => {
		const tally = new RunTally();
		tally.startWalk();
		tally.pageRead();
		tally.pageReceived(100);
		tally.pageHandled(100);
		tally.pageRead();
		tally.endWalk();
		tally.startWalk(); // the confirming walk sees the same 100 leads again
		tally.pageRead();
		tally.pageReceived(100);
		tally.pageHandled(100);
		tally.endWalk();
		tally.stats.inserted = 10;
		tally.stats.updated = 5;
		tally.fetchFailed(77, { name: 'SyncError', errorClass: 'transient', message: 'timeout', hint: '', retryable: true });

		expect(tally.stats.leadsSeen).toBe(200); // raw, per page
		expect(tally.leadsSeenOnce()).toBe(100);
		expect(tally.logIncrements()).toMatchObject({ walks: 2, leads_seen: 100, unchanged: 100 - 10 - 5 - 1 });
		expect(tally.stats.pages).toBe(3);
	});

	it('takes what the database wrote from the finished log row, and the client counters over its own', () => {
		const tally = new RunTally(undefined, () => ({ requests: 42, throttled: 3, retries: 2, backoffMs: 900 }));
		tally.startWalk();
		tally.pageReceived(50);
		tally.pageHandled(50);
		tally.endWalk();
		tally.stats.retries = 1;
		tally.adoptDatabaseStats({ stats: { inserted: 20, updated: 4, joined: 24, left: 3, failed: 0 } } as unknown as FinishResult);
		tally.adoptClientCounters();
		expect(tally.stats).toMatchObject({ inserted: 20, updated: 4, unchanged: 26, joined: 24, left: 3, leadsSeen: 50, requests: 42, throttled: 3, retries: 2, backoffMs: 900 });
		expect(tally.successRate()).toBe(100);
		expect(tally.summary('')).toBe('50 leads seen, 20 new, 4 updated, 26 unchanged, 0 detail calls.');
	});

	it('keeps at most 20 errors and a broken progress display never breaks the run', () => {
		const seen: SyncProgressEvent[] = [];
		const tally = new RunTally((event) => {
			seen.push(event);
			throw new Error('display crashed');
		});
		for (let i = 0; i < 30; i++) tally.recordFailed({ name: 'SyncError', errorClass: 'data', message: `bad ${i}`, hint: '', retryable: false });
		expect(() => tally.emit({ type: 'walk', segmentId: 1, walk: 1 })).not.toThrow();
		expect(seen).toHaveLength(1);
		expect(tally.errors).toHaveLength(20);
		expect(tally.stats.failed).toBe(30);
		tally.stats.leadsSeen = 40;
		expect(tally.successRate()).toBe(25);
		expect(tally.summary('Paging stopped.')).toBe('40 leads seen, 0 new, 0 updated, 0 unchanged, 0 detail calls, 30 quarantined. Paging stopped.');
	});
});
