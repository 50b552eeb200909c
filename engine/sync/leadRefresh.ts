/**
 * Refreshing one lead from SprintHub because something (a webhook) said it changed: the body that
 * said so is only a hint. The record written is the one SprintHub's detail call returns; a lead
 * SprintHub does not know is never written, and a known one is marked deleted.
 *
 * Many hints for the same lead in a short window cost one detail call: calls for a lead wait out the
 * window, then one fetch answers all of them. A hint that arrives while that fetch runs may describe a
 * change the fetch has not seen, so it waits for a second fetch after the first (never a third: later
 * hints join the second). The coalescing lives in this process (one n8n main or worker); other
 * processes coalesce on their own, and the shared account budget still bounds all of them together.
 */
import type { LeadUpsertResult } from '../store';
import { systemClock, type Clock } from '../sprinthub/clock';

export type LeadRefreshStatus = 'inserted' | 'updated' | 'unchanged' | 'deleted' | 'notFound' | 'rejected';

export interface LeadRefreshResult {
	id: number;
	status: LeadRefreshStatus;
	/** Why a record was rejected, or what happened to a lead SprintHub does not know. */
	reason: string | null;
	castProblems: LeadUpsertResult['cast_problems'];
	/** True when this call was answered by a fetch another call started (coalesced). */
	shared: boolean;
}

/** What a refresh needs: SprintHub's detail call and the two database writes. */
export interface LeadRefreshPorts {
	/** The detail record, or null when SprintHub answers 404. */
	fetchLead(leadId: number): Promise<Record<string, unknown> | null>;
	/** Writes a complete (detail) record. */
	writeLead(record: Record<string, unknown>): Promise<LeadUpsertResult>;
	/** Marks known leads deleted; returns the ids newly marked. */
	markDeleted(leadIds: number[]): Promise<number[]>;
}

interface LeadSlot {
	/** The fetch that has not started yet; new calls join it. */
	waiting?: Promise<LeadRefreshResult>;
	/** The fetch under way. */
	running?: Promise<LeadRefreshResult>;
}

export class LeadRefresher {
	private readonly slots = new Map<string, LeadSlot>();

	constructor(private readonly clock: Clock = systemClock) {}

	/**
	 * Refreshes a lead: `scope` names where it is written (SprintHub account and database, never a
	 * secret), `windowMs` how long calls for the same lead are gathered before the fetch.
	 */
	async refresh(scope: string, leadId: number, windowMs: number, ports: LeadRefreshPorts): Promise<LeadRefreshResult> {
		const key = `${scope}\n${leadId}`;
		const slot = this.slots.get(key) ?? {};
		this.slots.set(key, slot);
		if (slot.waiting) return { ...(await slot.waiting), shared: true };
		const previous = slot.running;
		const self: { fetch?: Promise<LeadRefreshResult> } = {};
		self.fetch = (async () => {
			// Let the fetch under way end first, then gather calls for the window.
			await previous?.catch(() => undefined);
			await this.clock.sleep(windowMs);
			slot.waiting = undefined;
			slot.running = self.fetch;
			try {
				return await refreshLead(leadId, ports);
			} finally {
				if (slot.running === self.fetch) slot.running = undefined;
				if (!slot.running && !slot.waiting) this.slots.delete(key);
			}
		})();
		slot.waiting = self.fetch;
		return self.fetch;
	}

	/** Leads with a fetch waiting or under way (tests: nothing is left behind). */
	get pending(): number {
		return this.slots.size;
	}
}

async function refreshLead(leadId: number, ports: LeadRefreshPorts): Promise<LeadRefreshResult> {
	const record = await ports.fetchLead(leadId);
	if (!record) {
		const marked = await ports.markDeleted([leadId]);
		return marked.includes(leadId)
			? { id: leadId, status: 'deleted', reason: 'SprintHub does not know this lead (404): it is marked deleted', castProblems: null, shared: false }
			: { id: leadId, status: 'notFound', reason: 'SprintHub does not know this lead (404): nothing was written', castProblems: null, shared: false };
	}
	const result = await ports.writeLead(record);
	const status = result.status === 'inserted' || result.status === 'updated' || result.status === 'unchanged' ? result.status : 'rejected';
	return { id: leadId, status, reason: result.reason, castProblems: result.cast_problems, shared: false };
}

/** One refresher per process: every execution in it coalesces with every other. */
export const leadRefresher = new LeadRefresher();
