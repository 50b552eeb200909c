import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { budgetAccount, StoreError } from '../../../../engine';
import { parameterError } from '../../helpers/errors';
import { paired } from '../../helpers/utils';
import type { EngineProvider } from '../../transport';
import { schemaOptionProperty } from '../common.descriptions';

const properties: INodeProperties[] = [
	{
		displayName: 'Requests Per Minute',
		name: 'accountRequestsPerMinute',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 80,
		description:
			"SprintHub calls per minute for this account, shared by every process syncing into this database (n8n main, queue-mode workers, the command line). A run's own Requests Per Minute can only lower it. 0 unsets it: each run then uses its own rate.",
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		options: [schemaOptionProperty],
	},
];

export const description = updateDisplayOptions({ show: { resource: ['account'], operation: ['setRate'] } }, properties);

/** Sets the account's requests per minute in sync_account_budgets; one item with the account's budget. */
export async function execute(this: IExecuteFunctions, items: INodeExecutionData[], provider: EngineProvider): Promise<INodeExecutionData[]> {
	const output: INodeExecutionData[] = [];
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		try {
			const value = Number(this.getNodeParameter('accountRequestsPerMinute', itemIndex));
			if (!Number.isFinite(value) || value < 0 || value > 1_000_000) {
				throw parameterError(this.getNode(), itemIndex, `Requests Per Minute must be from 0 to 1000000, got ${value}`, 'Change Requests Per Minute (0 unsets the account rate).');
			}
			const options = this.getNodeParameter('options', itemIndex, {}) as { schema?: string };
			const credential = await provider.sprintHubCredential(itemIndex);
			const engine = await provider.engine(itemIndex, { schema: options.schema?.trim() || undefined });
			const row = await engine.store.setAccountRate(budgetAccount(credential.baseUrl, credential.instance), value === 0 ? null : value);
			output.push(...paired([{ ...row }], itemIndex));
		} catch (error) {
			if (!this.continueOnFail()) throw error instanceof StoreError ? parameterError(this.getNode(), itemIndex, error.message, 'Apply the migrations in supabase/migrations to the project (sync_account_budgets).') : error;
			output.push(...paired([{ error: (error as Error).message }], itemIndex));
		}
	}
	return output;
}
