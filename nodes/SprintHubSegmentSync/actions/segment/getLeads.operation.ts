import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { LIST_PROJECTION, type SprintHubLead } from '../../../../engine';
import { mapWithConcurrency } from '../../../../engine/sync/concurrency';
import type { SyncOptionsParameter } from '../../helpers/interfaces';
import { forEachItem } from '../../helpers/itemLoop';
import { engineSettings, paired, parseSegmentIds, positiveInteger } from '../../helpers/utils';
import type { EngineProvider } from '../../transport';
import { patienceOption, requestsPerMinuteOption, returnAllAndLimit, segmentLocator } from '../common.descriptions';

const PAGE_SIZE = 100;

const properties: INodeProperties[] = [
	segmentLocator({ multiple: false, description: 'The segment whose leads to return, read live from SprintHub (nothing is written)' }),
	...returnAllAndLimit,
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		options: [
			{
				displayName: 'Detail Concurrency',
				name: 'detailConcurrency',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 4,
				description: 'Lead detail calls in flight at once (only with Include Details)',
			},
			{
				displayName: 'Include Details',
				name: 'includeDetails',
				type: 'boolean',
				default: false,
				description: 'Whether to fetch every field of each lead (one extra SprintHub call per lead) instead of the fields segment lists carry',
			},
			requestsPerMinuteOption,
			patienceOption,
		],
	},
];

export const description = updateDisplayOptions({ show: { resource: ['segment'], operation: ['getLeads'] } }, properties);

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[], provider: EngineProvider): Promise<INodeExecutionData[]> {
	return forEachItem.call(this, items, provider.secrets, () => 'Get Leads', async (itemIndex) => {
		const [segmentId] = parseSegmentIds.call(this, this.getNodeParameter('segment', itemIndex, undefined, { extractValue: true }), itemIndex, { multiple: false });
		const returnAll = this.getNodeParameter('returnAll', itemIndex, false) as boolean;
		const limit = returnAll ? Infinity : (positiveInteger.call(this, this.getNodeParameter('limit', itemIndex, 50), 'Limit', itemIndex) ?? 50);
		const options = this.getNodeParameter('options', itemIndex, {}) as SyncOptionsParameter & { includeDetails?: boolean };
		const client = await provider.client(itemIndex, engineSettings.call(this, options, itemIndex));
		const signal = this.getExecutionCancelSignal();

		// Pages shift while a dynamic segment changes: ids already returned are skipped. The end is an
		// empty page (a short page proves nothing, see the API notes).
		const leads: SprintHubLead[] = [];
		const seen = new Set<number>();
		let total = 0;
		for (let page = 0; leads.length < limit; page++) {
			const result = await client.segmentPage(segmentId, { page, limit: PAGE_SIZE, query: LIST_PROJECTION }, signal);
			total = result.total;
			if (result.received === 0) break;
			for (const lead of result.leads) {
				if (seen.has(lead.id) || leads.length >= limit) continue;
				seen.add(lead.id);
				leads.push(lead);
			}
			if (page > Math.ceil(Math.max(total, 1) / PAGE_SIZE) + 2) break; // a server that never ends its pages
		}
		this.logger.info(`SprintHub Segment Sync: segment ${segmentId}: ${leads.length} of ${total} leads read`, { node: this.getNode().name });
		if (!options.includeDetails) return paired(leads as IDataObject[], itemIndex);

		const concurrency = positiveInteger.call(this, options.detailConcurrency, 'Detail Concurrency', itemIndex, 64) ?? 4;
		const details = await mapWithConcurrency(leads, concurrency, (lead) => client.leadDetail(lead.id, signal), signal);
		// A lead deleted between the list and its detail call is left out.
		return paired(details.filter((lead): lead is SprintHubLead => lead !== null) as IDataObject[], itemIndex);
	});
}
