/**
 * Writes a page to the database in batches bounded by rows and bytes. Each batch carries a page key,
 * so a retried call counts once; the checkpoint goes with the last batch, so a crash before it
 * re-reads the page, whose upserts are idempotent. A statement timeout halves the batches for the
 * rest of the run.
 */
import type { PageLead, SyncStore } from '../store';
import { StoreError } from '../store';
import { batchesOf, DEFAULT_BATCH_LIMITS, type BatchLimits } from './batches';
import type { DatabaseCalls } from './databaseCalls';
import type { RunTally } from './runTally';

export class PageWriter {
	private limits: BatchLimits;

	constructor(
		private readonly run: {
			segmentId: number;
			runId: string;
			store: Pick<SyncStore, 'applyPage'>;
			db: DatabaseCalls;
			tally: RunTally;
		},
		limits: BatchLimits = DEFAULT_BATCH_LIMITS,
	) {
		this.limits = limits;
	}

	/**
	 * `writes` carry records; `membershipOnly` leads are only marked as seen in the segment and travel
	 * with the last batch. `checkpoint` null writes without moving the checkpoint. `walk` is the walk
	 * of the pass the page belongs to (members remember the last walk that saw them).
	 */
	async write(writes: PageLead[], membershipOnly: PageLead[], pageKey: string, checkpoint: Record<string, unknown> | null, walk: number): Promise<void> {
		const { runId, store, db, tally } = this.run;
		let pending = writes;
		let part = 0;
		for (;;) {
			const batch = batchesOf(pending, this.limits).next().value ?? [];
			const rest = pending.slice(batch.length);
			const last = rest.length === 0;
			const items = last ? [...batch, ...membershipOnly] : batch;
			try {
				const counts = await db.run(() => store.applyPage(runId, items, { checkpoint: last ? checkpoint : null, pageKey: `${pageKey}:${part}`, walk }));
				tally.stats.inserted += counts.inserted;
				tally.stats.updated += counts.updated;
				tally.stats.unchanged += counts.unchanged;
				tally.stats.joined += counts.joined;
				tally.emit({ type: 'written', segmentId: this.run.segmentId, inserted: counts.inserted, updated: counts.updated, unchanged: counts.unchanged });
			} catch (error) {
				// A statement timeout means the batch is too heavy for the database: halve it and go on.
				if (error instanceof StoreError && error.kind === 'timeout' && batch.length > 1) {
					this.limits = { maxRows: Math.max(1, Math.floor(batch.length / 2)), maxBytes: Math.max(10_000, Math.floor(this.limits.maxBytes / 2)) };
					continue;
				}
				throw error;
			}
			if (last) return;
			pending = rest;
			part += 1;
		}
	}
}
