/**
 * What the soak's churn would cost an undisturbed sync, and the churn itself. The ideal follows the
 * README's account of a sync: list pages (ceil(members ÷ page size) plus the empty page that ends the
 * walk), one detail call per member whose updatedDate the database does not hold yet (stored records
 * are shared by every segment), one detail call per leaver (the deleted-lead check) and one
 * credential check per process. Faults, kills and duplicate processes cost more; the soak states by
 * how much the real calls may exceed this.
 */
import type { Simulator } from '../support/simulator';
import type { ChurnOp } from './plan';

export class IdealCalls {
	private readonly markers = new Map<number, string>();
	private readonly members = new Map<number, Set<number>>();
	total = 0;

	constructor(
		private readonly sim: Simulator,
		private readonly pageSize: number,
	) {}

	/** A process started: its credential check. */
	process(): void {
		this.total += 1;
	}

	/** An undisturbed sync of the segment now. */
	sync(segmentId: number): void {
		const ids = this.sim.truth.segmentMemberIds(segmentId);
		let calls = Math.ceil(ids.length / this.pageSize) + 1;
		for (const id of ids) {
			const marker = this.sim.truth.lead(id)?.updatedDate as string | undefined;
			if (marker !== undefined && this.markers.get(id) !== marker) {
				calls++;
				this.markers.set(id, marker);
			}
		}
		const current = new Set(ids);
		for (const id of this.members.get(segmentId) ?? []) if (!current.has(id)) calls++;
		this.members.set(segmentId, current);
		this.total += calls;
	}
}

/** A lead deleted in SprintHub by the soak, and when (wall clock, as the database's timestamps). */
export interface Deletion {
	leadId: number;
	at: Date;
}

export interface ChurnTally {
	joined: number;
	left: number;
	changed: number;
	deleted: Deletion[];
}

export function emptyChurn(): ChurnTally {
	return { joined: 0, left: 0, changed: 0, deleted: [] };
}

export function applyChurn(sim: Simulator, churn: ChurnOp, tally: ChurnTally): void {
	switch (churn.op) {
		case 'join':
			tally.joined += sim.mutate.join(churn.segmentId, churn.count, { newLeads: churn.newLeads }).length;
			return;
		case 'leave':
			tally.left += sim.mutate.leave(churn.segmentId, churn.count).length;
			return;
		case 'change':
			tally.changed += sim.mutate.change({ segmentId: churn.segmentId, count: churn.count }).length;
			return;
		case 'remove': {
			const at = new Date();
			for (const leadId of sim.mutate.remove({ segmentId: churn.segmentId, count: churn.count })) tally.deleted.push({ leadId, at });
			return;
		}
	}
}
