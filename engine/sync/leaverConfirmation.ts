/**
 * Where a run decides that leads left the segment. The database marks leavers when the run finishes
 * with `complete` (mark-and-sweep in sync_finish: members the pass did not see, guarded against a bad
 * response wiping a segment). The engine says `complete` only after a walk saw the whole segment
 * without it moving, and, when that walk missed anybody, after a second walk missed them too.
 *
 * Why the second walk: one lead leaving a page already read while another joins further on keeps the
 * total and the page overlaps unchanged, yet hides a lead from the walk. The confirming walk is cheap
 * (ids only, no detail calls for leads already stored).
 */
import type { SyncStore } from '../store';
import type { DatabaseCalls } from './databaseCalls';

export async function leaversNeedConfirming(run: { runId: string; store: Pick<SyncStore, 'leaveCandidates'>; db: DatabaseCalls }): Promise<boolean> {
	return (await run.db.run(() => run.store.leaveCandidates(run.runId))) > 0;
}
