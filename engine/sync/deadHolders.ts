/**
 * A dead holder's lease. The engine names its worker `host:pid:random` (engine.ts). A lease held by a
 * worker of this host whose process no longer exists (SIGKILL, OOM) is ended at once instead of
 * blocking the segment for the whole lease; the claim that follows takes the segment over and
 * resumes from its checkpoint. Holders on other hosts, or named otherwise (n8n's workers), expire as
 * before. A reused pid only makes the holder look alive: the safe side.
 */
import { hostname } from 'node:os';
import type { SyncStore } from '../store';

export function isDeadLocalHolder(owner: string | null | undefined, host = hostname()): boolean {
	if (!owner) return false;
	const [ownerHost, pidText] = owner.split(':');
	const pid = Number(pidText);
	if (ownerHost !== host || !Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return false;
	try {
		process.kill(pid, 0);
		return false;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'ESRCH';
	}
}

/** Ends the leases of these segments that dead local holders still hold; returns the segments freed. */
export async function releaseDeadLocalLeases(
	store: Pick<SyncStore, 'releaseDeadLease'>,
	held: ReadonlyArray<{ segment_id: number | string; lease_owner: string | null }>,
): Promise<number[]> {
	const freed: number[] = [];
	for (const row of held) {
		if (!isDeadLocalHolder(row.lease_owner)) continue;
		if (await store.releaseDeadLease(Number(row.segment_id), row.lease_owner!)) freed.push(Number(row.segment_id));
	}
	return freed;
}
