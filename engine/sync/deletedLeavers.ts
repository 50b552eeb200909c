/**
 * Leavers that SprintHub deleted. A lead deleted in SprintHub drops out of every segment, so to the
 * walk it looks like any leaver. Before a complete run closes, each leaver of the run gets one detail
 * call (under the account's budget; leavers are few): a 404 stamps it deleted. The finish then marks
 * it left with the others. A leaver whose detail call fails is left as a plain leaver (the error is
 * kept); at most `limit` leavers are asked per run, since more looks like a bad response that the
 * finish's leave guard will refuse anyway.
 */
import { SyncError, toSyncError } from '../errors';
import type { SyncStore } from '../store';
import { mapWithConcurrency } from './concurrency';
import type { DatabaseCalls } from './databaseCalls';
import type { LeadSource } from './ports';
import type { RunTally } from './runTally';

export const DELETED_LEAVER_CHECKS = 500;

export async function stampDeletedLeavers(
	run: {
		runId: string;
		source: LeadSource;
		store: Pick<SyncStore, 'leaveCandidateIds' | 'stampDeletedLeavers'>;
		db: DatabaseCalls;
		signal: AbortSignal;
		tally: RunTally;
	},
	settings: { concurrency: number; limit?: number },
): Promise<void> {
	const { runId, source, store, db, tally } = run;
	const limit = settings.limit ?? DELETED_LEAVER_CHECKS;
	const leavers = await db.run(() => store.leaveCandidateIds(runId, limit + 1));
	if (leavers.length === 0) return;
	if (leavers.length > limit) {
		const message = `More than ${limit} leads left the segment in one run; they were not asked whether SprintHub deleted them.`;
		tally.keepError(new SyncError({ errorClass: 'data', code: 'deleted_leavers_unchecked', message }).toJSON());
		return;
	}
	const deleted: number[] = [];
	await mapWithConcurrency(
		leavers,
		settings.concurrency,
		async (leadId) => {
			tally.stats.detailCalls += 1;
			try {
				if ((await source.leadDetail(leadId, run.signal)) === null) deleted.push(leadId);
			} catch (error) {
				const syncError = toSyncError(error);
				if (syncError.errorClass !== 'transient' && syncError.errorClass !== 'data') throw syncError;
				tally.keepError(syncError.toJSON());
			}
		},
		run.signal,
	);
	if (deleted.length === 0) return;
	await db.run(() => store.stampDeletedLeavers(runId, deleted));
	tally.stats.deleted += deleted.length;
}
