/**
 * The checkpoint of a pass: where an unfinished run stopped, stored with the segment (committed with
 * the last batch of each page) so the next run resumes there.
 */
import type { EnrichmentMode, SyncCheckpoint } from './ports';

/** A pass from the first page. */
export function firstPass(limit: number, enrichment: EnrichmentMode): SyncCheckpoint {
	return { walk: 1, nextPage: 0, limit, seen: 0, total: -1, shifted: false, enrichment };
}

/** The same pass walked again from the first page (the segment moved, or leavers are confirmed). */
export function nextWalk(pass: SyncCheckpoint): SyncCheckpoint {
	return { ...pass, walk: pass.walk + 1, nextPage: 0, seen: 0, total: -1, shifted: false };
}

/** What is stored once the current page is written: the next run starts at the page after it. */
export function checkpointAfterPage(pass: SyncCheckpoint): Record<string, unknown> {
	return { ...pass, nextPage: pass.nextPage + 1 } as unknown as Record<string, unknown>;
}

/** A stored checkpoint, or null when it is missing or not one of ours. */
export function readCheckpoint(value: Record<string, unknown> | null): SyncCheckpoint | null {
	if (!value || typeof value !== 'object') return null;
	const c = value as Partial<SyncCheckpoint>;
	if (typeof c.nextPage !== 'number' || typeof c.limit !== 'number' || c.limit < 1) return null;
	return {
		walk: typeof c.walk === 'number' ? c.walk : 1,
		nextPage: c.nextPage,
		limit: c.limit,
		seen: typeof c.seen === 'number' ? c.seen : 0,
		total: typeof c.total === 'number' ? c.total : -1,
		shifted: c.shifted === true,
		enrichment: c.enrichment === 'all' || c.enrichment === 'none' || c.enrichment === 'auto' ? c.enrichment : 'changed',
	};
}
