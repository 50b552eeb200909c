import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import type { SprintHubClient, SprintHubSegment } from '../../../../engine';
import { forEachItem } from '../../helpers/itemLoop';
import { paired, positiveInteger } from '../../helpers/utils';
import type { EngineProvider } from '../../transport';
import { returnAllAndLimit } from '../common.descriptions';

const PAGE_SIZE = 100;

const properties: INodeProperties[] = [
	...returnAllAndLimit,
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add filter',
		default: {},
		options: [
			{
				displayName: 'Name Contains',
				name: 'search',
				type: 'string',
				default: '',
				description: 'Only segments whose name or alias contains this text (case-insensitive)',
			},
		],
	},
];

export const description = updateDisplayOptions({ show: { resource: ['segment'], operation: ['getMany'] } }, properties);

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[], provider: EngineProvider): Promise<INodeExecutionData[]> {
	return forEachItem.call(this, items, provider.secrets, () => 'Get Many segments', async (itemIndex) => {
		const returnAll = this.getNodeParameter('returnAll', itemIndex, false) as boolean;
		const limit = returnAll ? Infinity : (positiveInteger.call(this, this.getNodeParameter('limit', itemIndex, 50), 'Limit', itemIndex) ?? 50);
		const filters = this.getNodeParameter('filters', itemIndex, {}) as { search?: string };
		const client = await provider.client(itemIndex);
		const segments = await listAllSegments(client, { search: filters.search, limit }, this.getExecutionCancelSignal());
		return paired(segments.map(({ raw: _raw, ...segment }) => segment as unknown as IDataObject), itemIndex);
	});
}

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
