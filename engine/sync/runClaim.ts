/**
 * The claim that starts a run: the database hands this worker the segment's lease and a run id, or
 * says why not (another worker holds it, paused, not due, in error, not registered).
 */
import { SyncError } from '../errors';
import { randomUUID } from 'node:crypto';
import type { ClaimRow, SyncStore } from '../store';
import { fromStoreError, type DatabaseCalls } from './databaseCalls';
import { releaseDeadLocalLeases } from './deadHolders';
import type { RunTrigger, RunStatus } from './ports';

/** Why a run did not start, as its result says it. */
export interface ClaimRefusal {
	status: Extract<RunStatus, 'skipped' | 'failed'>;
	message: string;
	error?: SyncError;
}

export type ClaimResult = { claimed: ClaimRow & { run_id: string } } | { refused: ClaimRefusal };

/**
 * Uses the run Sync Due already claimed, otherwise claims the segment. The claim is retried through
 * the database's bad minutes with one request id, so a claim whose answer was lost is not taken twice.
 */
export async function claimRun(
	database: { store: Pick<SyncStore, 'claim' | 'releaseDeadLease'>; db: DatabaseCalls },
	request: { segmentId: number; worker: string; trigger: RunTrigger; claimed?: ClaimRow },
): Promise<ClaimResult> {
	let claim: ClaimRow | undefined;
	try {
		const claimOnce = async () => {
			const requestId = randomUUID();
			return (await database.db.run(() => database.store.claim({ worker: request.worker, segmentIds: [request.segmentId], trigger: request.trigger, requestId })))[0];
		};
		claim = request.claimed ?? (await claimOnce());
		// Held by a process of this host that no longer exists: end its lease and claim again.
		if (claim?.outcome === 'busy' && (await database.db.run(() => releaseDeadLocalLeases(database.store, [claim!]))).length > 0) {
			claim = await claimOnce();
		}
	} catch (error) {
		const syncError = fromStoreError(error);
		return { refused: { status: 'failed', message: syncError.message, error: syncError } };
	}
	if (!claim || claim.outcome !== 'claimed' || !claim.run_id) return { refused: refusalOf(request.segmentId, claim) };
	return { claimed: claim as ClaimRow & { run_id: string } };
}

function refusalOf(segmentId: number, claim: ClaimRow | undefined): ClaimRefusal {
	switch (claim?.outcome ?? 'unknown') {
		case 'busy':
			return {
				status: 'skipped',
				message: `Segment ${segmentId} is being synced by ${claim?.lease_owner ?? 'another worker'} (lease until ${claim?.lease_expires_at ?? 'unknown'}); skipped.`,
			};
		case 'paused':
			return { status: 'skipped', message: `Segment ${segmentId} is paused; resume it with select sync_resume_segment(${segmentId});` };
		case 'not_due':
			return { status: 'skipped', message: `Segment ${segmentId} is not due yet.` };
		case 'error':
			return {
				status: 'skipped',
				message: `Segment ${segmentId} is in status error after repeated failures; a manual run or select sync_resume_segment(${segmentId}); restarts it.`,
			};
	}
	const error = new SyncError({
		errorClass: 'configuration',
		code: 'segment_not_registered',
		message: `Segment ${segmentId} is not in sync_segments_control.`,
		hint: `Add it first: select sync_add_segment(${segmentId}); (or the node's Segment → Add operation, or sprinthub-sync segments add ${segmentId}).`,
	});
	return { status: 'failed', message: `${error.message} ${error.hint}`, error };
}
