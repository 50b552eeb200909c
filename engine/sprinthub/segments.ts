/** The account's segments beyond one page: the node's Get Many and its segment picker list them. */
import type { SprintHubClient } from './client';
import type { SprintHubSegment } from './types';

const PAGE_SIZE = 100;

/**
 * Pages through the account's segments (servers that ignore paging and send everything at once
 * are handled), filtering by name or alias on our side whatever the server does with `search`.
 */
export async function listAllSegments(
	client: SprintHubClient,
	options: { search?: string; limit?: number; startPage?: number; maxPages?: number },
	signal?: AbortSignal,
): Promise<SprintHubSegment[] & { nextPage?: number }> {
	const needle = (options.search ?? '').trim().toLowerCase();
	const limit = options.limit ?? Infinity;
	const found: SprintHubSegment[] & { nextPage?: number } = [];
	const ids = new Set<number>();
	let previousFirst: number | undefined;
	const lastPage = (options.startPage ?? 0) + (options.maxPages ?? 1000);
	for (let page = options.startPage ?? 0; page < lastPage && found.length < limit; page++) {
		const segments = await client.listSegments({ page, limit: PAGE_SIZE }, signal);
		if (segments.length === 0 || segments[0].id === previousFirst) {
			found.nextPage = undefined;
			return found;
		}
		previousFirst = segments[0].id;
		for (const segment of segments) {
			if (ids.has(segment.id) || found.length >= limit) continue;
			ids.add(segment.id);
			const text = `${segment.name} ${segment.alias ?? ''} ${segment.id}`.toLowerCase();
			if (!needle || text.includes(needle)) found.push(segment);
		}
		// A server that ignored paging sent everything at once.
		if (segments.length > PAGE_SIZE) {
			found.nextPage = undefined;
			return found;
		}
		found.nextPage = page + 1;
	}
	return found;
}
