import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { ExecutionSecrets } from '../helpers/secrets';
import { EngineProvider } from '../transport';
import * as account from './account/Account.resource';
import * as lead from './lead/Lead.resource';
import type { SprintHubSegmentSyncType } from './node.type';
import * as segment from './segment/Segment.resource';
import * as syncHealth from './syncHealth/SyncHealth.resource';

type Operation = {
	execute(this: IExecuteFunctions, items: INodeExecutionData[], provider: EngineProvider): Promise<INodeExecutionData[]>;
};

const operations: { [R in SprintHubSegmentSyncType['resource']]: Record<string, Operation> } = {
	segment: {
		add: segment.add,
		getLeads: segment.getLeads,
		getMany: segment.getMany,
		pause: segment.pause,
		reschedule: segment.reschedule,
		resume: segment.resume,
		runNow: segment.runNow,
		sync: segment.sync,
		syncDue: segment.syncDue,
	},
	lead: { checkWebhook: lead.checkWebhook, get: lead.get, upsert: lead.upsert },
	syncHealth: { check: syncHealth.check, report: syncHealth.report },
	account: { setRate: account.setRate },
};

/**
 * Reads resource and operation, gives the operation this execution's engines (one per setting,
 * closed at the end whatever happens) and returns its items. The SprintHub pools and budgets are
 * per process and stay open for the next execution.
 */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const resource = this.getNodeParameter('resource', 0) as SprintHubSegmentSyncType['resource'];
	const operation = this.getNodeParameter('operation', 0) as string;
	const handler = operations[resource]?.[operation];
	if (!handler) {
		throw new NodeOperationError(this.getNode(), `The operation "${operation}" of "${resource}" is not supported`, {
			description: 'Pick a resource and an operation from the lists.',
		});
	}
	const provider = new EngineProvider(this, new ExecutionSecrets());
	try {
		return [await handler.execute.call(this, items, provider)];
	} finally {
		await provider.close();
	}
}
