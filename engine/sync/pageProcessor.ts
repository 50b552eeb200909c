/**
 * One list page from reading to stored: what the database knows of its leads, the records the
 * enricher gives them, deleted leads stamped, then the page written with its checkpoint. A dry run
 * stops before writing and counts what would change.
 *
 * Writes go behind fetching: a page's write is queued (in page order, one at a time) and the walk
 * goes on to the next page's list and detail calls while it commits. At most `writeAhead` writes
 * wait in the queue; the next page waits for room (backpressure). A write's checkpoint commits with
 * it, so checkpoints stay in page order and a stopped run resumes after the last committed page.
 */
import type { LeadMarker, PageLead, SyncStore } from '../store';
import { fromStoreError, type DatabaseCalls } from './databaseCalls';
import { EnrichmentStopped, type EnrichedPage, type Enricher } from './enricher';
import type { PageWriter } from './pageWriter';
import type { RunLease } from './runLease';
import type { RunTally } from './runTally';

type Lead = Record<string, unknown> & { id: number };

export class PageProcessor {
	constructor(
		private readonly run: {
			/** null in a dry run. */
			runId: string | null;
			store: Pick<SyncStore, 'markers' | 'markDeleted'>;
			db: DatabaseCalls;
			lease: RunLease;
			tally: RunTally;
			enricher: Enricher;
			/** null in a dry run. */
			writer: PageWriter | null;
		},
		/** Page writes queued behind fetching; 0 writes each page before the next is read. */
		private readonly writeAhead = 1,
	) {}

	/** Queued and running writes, oldest first, with the page each one stores. */
	private readonly queue: Array<{ page: number; done: Promise<void> }> = [];
	/** The first failure of a queued write: the run stops with it. */
	private failure: { error: unknown } | null = null;

	/** Waits for every queued write; throws the first failure. */
	async drain(): Promise<void> {
		while (this.queue.length) await this.queue[0].done;
		this.throwIfFailed();
	}

	/** The page a stopped run resumes at, once drained: the oldest page whose write did not commit. */
	resumePage(walkerPage: number): number {
		return this.unwritten ?? walkerPage;
	}

	private unwritten: number | null = null;

	/** `checkpoint` is what the page's last batch commits (where the next run resumes); `walk` the page's walk. */
	async process(leads: Lead[], pageKey: string, checkpoint: Record<string, unknown>, walk: number): Promise<void> {

		const { runId, store, db, lease, tally, enricher, writer } = this.run;
		this.throwIfFailed();
		const ids = leads.map((lead) => lead.id);
		const known: Map<number, LeadMarker> = ids.length ? await db.run(() => store.markers(ids)) : new Map();

		let enriched: EnrichedPage;
		try {
			enriched = await enricher.enrich(leads, known);
		} catch (error) {
			if (!(error instanceof EnrichmentStopped)) throw error;
			// Details already fetched are kept, without the checkpoint: a first sync of a big segment
			// that keeps being stopped mid-page (throttling, cancel, timeouts) still makes progress.
			// A failure here is kept in the run's errors; the page's own failure is what ends the run.
			if (writer && !lease.lost && error.fetched.length > 0) {
				// After the queued pages, so that writes stay in page order.
				await this.settle();
				await writer
					.write(error.fetched, [], `${pageKey}:stopped`, null, walk)
					.then(() => tally.detailsWritten(error.fetched), (writeError: unknown) => tally.keepError(fromStoreError(writeError).toJSON()));
			}
			throw error.reason;
		}
		lease.throwIfStopped();
		const { writes, deletedIds } = enriched;

		if (runId === null || writer === null) {
			for (const write of writes) {
				if (known.has(Number(write.id))) tally.stats.updated += 1;
				else tally.stats.inserted += 1;
			}
			tally.stats.unchanged += ids.length - writes.length - deletedIds.length;
			tally.stats.deleted += deletedIds.length;
			return;
		}
		const written = new Set(writes.map((write) => Number(write.id)));
		const deleted = new Set(deletedIds);
		// Leads that need no rewrite still count as seen in the segment (membership only).
		const membershipOnly: PageLead[] = ids.filter((id) => !written.has(id) && !deleted.has(id)).map((id) => ({ id }));
		const commit = async () => {
			// Deleted leads first: once the page's checkpoint commits, a crash must not lose the stamp.
			if (deletedIds.length) {
				await db.run(() => store.markDeleted(runId, deletedIds));
				tally.stats.deleted += deletedIds.length;
			}
			await writer.write(writes, membershipOnly, pageKey, checkpoint, walk);
			tally.detailsWritten(writes);
		};
		await this.enqueue(Number(checkpoint.nextPage) - 1, commit);
	}

	/** Runs `commit` after the queued writes; returns once the queue has room for the next page. */
	private async enqueue(page: number, commit: () => Promise<void>): Promise<void> {
		const previous = this.queue.length ? this.queue[this.queue.length - 1].done : Promise.resolve();
		const entry = {
			page,
			done: previous
				.then(() => {
					// A failed write stops the queue: nothing after it may commit a later checkpoint.
					if (this.failure) return;
					return commit().catch((error: unknown) => {
						this.failure ??= { error };
					});
				})
				.finally(() => {
					if (this.failure && this.unwritten === null) this.unwritten = entry.page;
					this.queue.splice(this.queue.indexOf(entry), 1);
				}),
		};
		this.queue.push(entry);
		while (this.queue.length > this.writeAhead) await this.queue[0].done;
		this.throwIfFailed();
	}

	/** Waits for the queued writes without throwing (their failure is kept for the run). */
	private async settle(): Promise<void> {
		while (this.queue.length) await this.queue[0].done;
	}

	private throwIfFailed(): void {
		if (this.failure) throw this.failure.error;
	}
}
