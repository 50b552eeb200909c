import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { router } from './actions/router';
import { versionDescription } from './actions/versionDescription';
import { credentialTest, listSearch } from './methods';

/** SprintHub Segment Sync: keeps the leads of SprintHub segments in Supabase (see actions/). */
export class SprintHubSegmentSync implements INodeType {
	description: INodeTypeDescription = versionDescription;

	methods = { listSearch, credentialTest };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
