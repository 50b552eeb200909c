import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeApiError, updateDisplayOptions } from 'n8n-workflow';
import { parameterError } from '../../helpers/errors';
import { forEachItem } from '../../helpers/itemLoop';
import type { EngineProvider } from '../../transport';

const properties: INodeProperties[] = [
	{
		displayName: 'Lead ID',
		name: 'leadId',
		type: 'string',
		required: true,
		default: '',
		placeholder: '12345',
		description: 'The ID of the lead in SprintHub; every field of the lead is returned, custom fields included',
	},
];

export const description = updateDisplayOptions({ show: { resource: ['lead'], operation: ['get'] } }, properties);

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[], provider: EngineProvider): Promise<INodeExecutionData[]> {
	return forEachItem.call(this, items, provider.secrets, () => 'Lead Get', async (itemIndex) => {
		const raw = String(this.getNodeParameter('leadId', itemIndex, '') ?? '').trim();
		if (!/^\d+$/.test(raw) || Number(raw) <= 0 || !Number.isSafeInteger(Number(raw))) {
			throw parameterError(this.getNode(), itemIndex, `"${raw}" is not a lead id`, 'Use the numeric id of a SprintHub lead, e.g. 12345.');
		}
		const leadId = Number(raw);
		const client = await provider.client(itemIndex);
		const lead = await client.leadDetail(leadId, this.getExecutionCancelSignal());
		if (!lead) {
			throw new NodeApiError(
				this.getNode(),
				{ leadId, message: 'not found' },
				{
					itemIndex,
					httpCode: '404',
					message: `Lead ${leadId} does not exist in SprintHub`,
					description: 'The lead was deleted or the id is wrong; check it in SprintHub → Leads.',
				},
			);
		}
		return [{ json: lead as IDataObject, pairedItem: { item: itemIndex } }];
	});
}
