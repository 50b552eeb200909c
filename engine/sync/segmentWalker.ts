/**
 * Walks a segment's list pages in order: honours the page size the server really gives (learned on
 * page 0), notices when the segment moves under the walk (total changed, pages overlap, fewer leads
 * than announced) and walks it again, knows the end only from an empty page together with the total,
 * and stops paging on a server that repeats a page or runs past its total. Each page goes to the page
 * handler; the walk's position is the pass checkpoint.
 */
import { SyncError, toSyncError } from '../errors';
import type { SyncStore } from '../store';
import { leaversNeedConfirming } from './leaverConfirmation';
import type { DatabaseCalls } from './databaseCalls';
import type { LeadSource, SyncCheckpoint } from './ports';
import { checkpointAfterPage, nextWalk } from './runCheckpoint';
import type { RunLease } from './runLease';
import type { RunTally } from './runTally';

type Lead = Record<string, unknown> & { id: number };

/** Handles one page of walk `walk`; `checkpoint` is what to store once the page is written. */
export type PageHandler = (leads: Lead[], pageKey: string, checkpoint: Record<string, unknown>, walk: number) => Promise<void>;

export interface WalkOutcome {
	/** The run saw the whole segment: leavers may be marked. */
	complete: boolean;
	/** Why the run could not see the whole segment ('' when complete). */
	incompleteReason: string;
	/** The walk of the pass that ended the run (when complete, the one that saw the whole segment). */
	walk: number;
}

export class SegmentWalker {
	/** Where the walk is; what a checkpoint stores. */
	pass: SyncCheckpoint;
	/** What each list page asks for (enrichment auto changes it during a run). */
	private readonly pageQuery: () => { query: string; allFields?: boolean };
	private readonly maxWalks: number;

	constructor(
		private readonly run: {
			segmentId: number;
			/** null in a dry run (no leavers are confirmed or marked). */
			runId: string | null;
			source: LeadSource;
			store: Pick<SyncStore, 'leaveCandidates'>;
			db: DatabaseCalls;
			lease: RunLease;
			tally: RunTally;
		},
		settings: { pass: SyncCheckpoint; projection: string | (() => { query: string; allFields?: boolean }); maxWalks: number },
		private readonly handlePage: PageHandler,
		/** Waits until every handled page is written (writes go behind fetching); throws a write's failure. */
		private readonly drainWrites: () => Promise<void> = async () => {},
	) {
		this.pass = settings.pass;
		const projection = settings.projection;
		this.pageQuery = typeof projection === 'string' ? () => ({ query: projection }) : projection;
		this.maxWalks = settings.maxWalks;
	}

	async walk(): Promise<WalkOutcome> {
		const { segmentId, runId, tally } = this.run;
		let confirming = false;
		for (;;) {
			tally.startWalk();
			tally.emit({ type: 'walk', segmentId, walk: this.pass.walk });
			const stoppedBecause = await this.walkPages();
			// What the walk saw is written before leavers are looked at or the run says it is done.
			await this.drainWrites();
			if (stoppedBecause) return { complete: false, incompleteReason: stoppedBecause, walk: this.pass.walk };
			tally.endWalk();
			if (!this.pass.shifted) {
				if (runId !== null && !confirming && (await leaversNeedConfirming({ runId, store: this.run.store, db: this.run.db }))) {
					confirming = true;
					this.pass = nextWalk(this.pass);
					continue;
				}
				return { complete: true, incompleteReason: '', walk: this.pass.walk };
			}
			// Walks are bounded per run, not per pass: a run that resumes a restless pass gets its own
			// walks, otherwise it would resume at the end of the last walk and give up forever.
			if (tally.stats.walks >= this.maxWalks) {
				return { complete: false, incompleteReason: `The segment kept changing during ${tally.stats.walks} walks; leavers will be marked after a stable run.`, walk: this.pass.walk };
			}
			// The segment moved while we read it: walk it again. Membership seen in every walk of the
			// pass is kept, so the union survives and nobody who stayed is lost.
			this.pass = nextWalk(this.pass);
		}
	}

	/** One walk from the pass's next page to the end; returns why paging stopped early, or null. */
	private async walkPages(): Promise<string | null> {
		const { segmentId, source, lease, tally } = this.run;
		const pass = this.pass;
		let previousIds: number[] | null = null;
		for (;;) {
			lease.throwIfStopped();
			const page = await source.segmentPage(segmentId, { page: pass.nextPage, limit: pass.limit, ...this.pageQuery() }, lease.signal);
			tally.pageRead();
			if (pass.total < 0) pass.total = page.total;
			if (page.total !== pass.total) pass.shifted = true;

			if (page.received === 0 && page.total === 0 && pass.nextPage === 0 && pass.walk === 1) await this.checkSegmentExists();
			if (page.received === 0) {
				// The end is an empty page; complete only if the walk saw as many leads as announced.
				if (pass.seen < pass.total) pass.shifted = true;
				return null;
			}
			// A server may honour a smaller page than asked: learn it on page 0, so that page
			// numbers mean the same offsets whichever way the server counts them.
			if (pass.nextPage === 0 && page.received < pass.limit && page.received < page.total) pass.limit = page.received;

			const ids = page.leads.map((lead) => lead.id);
			if (previousIds && sameIds(previousIds, ids)) {
				return this.stopPaging('repeated_page', `SprintHub returned page ${pass.nextPage} identical to the page before; paging stopped.`);
			}
			if (previousIds && ids.some((id) => previousIds!.includes(id))) pass.shifted = true;
			previousIds = ids;
			pass.seen += page.received;
			tally.pageReceived(page.received);
			tally.emit({ type: 'page', segmentId, page: pass.nextPage, leads: page.received, total: page.total, seen: pass.seen });

			for (const bad of page.invalid) tally.recordFailed(toSyncError(bad.error, [], 'data').toJSON());
			await this.handlePage(page.leads, `${pass.walk}:${pass.nextPage}`, checkpointAfterPage(pass), pass.walk);
			tally.pageHandled(page.leads.length);
			pass.nextPage += 1;

			if (pass.seen > Math.max(pass.total, page.total) + 2 * pass.limit) {
				return this.stopPaging('pages_past_total', `SprintHub kept returning leads past the announced total (${page.total}); paging stopped.`);
			}
		}
	}

	private stopPaging(code: string, reason: string): string {
		this.run.tally.keepError(new SyncError({ errorClass: 'transient', code, message: reason }).toJSON());
		return reason;
	}

	/**
	 * An empty segment may be a segment SprintHub does not know (some servers answer so instead of
	 * 404): one look at the segment list tells them apart, so a typo is not synced as "empty".
	 */
	private async checkSegmentExists(): Promise<void> {
		const { segmentId, source, lease } = this.run;
		if (!source.findSegment) return;
		let found: unknown;
		try {
			found = await source.findSegment(segmentId, lease.signal);
		} catch (error) {
			const syncError = toSyncError(error);
			if (syncError.errorClass === 'cancelled' || syncError.errorClass === 'configuration') throw syncError;
			return; // the list could not be read: treat the segment as empty, as SprintHub said
		}
		if (found !== null && found !== undefined) return;
		throw new SyncError({
			errorClass: 'configuration',
			code: 'unknown_segment',
			message: `Segment ${segmentId} does not exist in this SprintHub account: its page is empty and the account's segment list does not include it.`,
			hint: 'Check the segment id: list the account segments (the node offers them in a list) and use one of their ids.',
		});
	}
}

function sameIds(a: number[], b: number[]): boolean {
	return a.length === b.length && a.every((id, index) => id === b[index]);
}
