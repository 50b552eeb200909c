/**
 * One list page from reading to stored: what the database knows of its leads, the records the
 * enricher gives them, deleted leads stamped, then the page written with its checkpoint. A dry run
 * stops before writing and counts what would change.
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
	) {}

	/** `checkpoint` is what the page's last batch commits (where the next run resumes); `walk` the page's walk. */
	async process(leads: Lead[], pageKey: string, checkpoint: Record<string, unknown>, walk: number): Promise<void> {
		const { runId, store, db, lease, tally, enricher, writer } = this.run;
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
		// Deleted leads first: once the page's checkpoint commits, a crash must not lose the stamp.
		if (deletedIds.length) {
			await db.run(() => store.markDeleted(runId, deletedIds));
			tally.stats.deleted += deletedIds.length;
		}
		await writer.write(writes, membershipOnly, pageKey, checkpoint, walk);
		tally.detailsWritten(writes);
	}
}
