import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { listAllSegments } from '../../../../engine';
import { forEachItem } from '../../helpers/itemLoop';
import { paired, positiveInteger } from '../../helpers/utils';
import type { EngineProvider } from '../../transport';
import { returnAllAndLimit } from '../common.descriptions';

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
