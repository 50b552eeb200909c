import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { budgetAccount, StoreError } from '../../../../engine';
import { parameterError, toNodeError } from '../../helpers/errors';
import { numberOption, schemaOption } from '../../helpers/inputs';
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
			// Required: an expression that yields nothing must not unset the account's rate by accident.
			const value = numberOption.call(this, this.getNodeParameter('accountRequestsPerMinute', itemIndex), 'Requests Per Minute', itemIndex, {
				min: 0,
				max: 1_000_000,
				fix: 'Change Requests Per Minute (0 unsets the account rate).',
			});
			if (value === undefined) {
				throw parameterError(this.getNode(), itemIndex, 'Requests Per Minute is empty', 'Set Requests Per Minute to the account’s SprintHub calls per minute, or 0 to unset it.');
			}
			const credential = await provider.sprintHubCredential(itemIndex);
			const engine = await provider.engine(itemIndex, { schema: schemaOption.call(this, itemIndex) });
			const row = await engine.store.setAccountRate(budgetAccount(credential.baseUrl, credential.instance), value === 0 ? null : value);
			output.push(...paired([{ ...row }], itemIndex));
		} catch (error) {
			if (!this.continueOnFail()) {
				throw error instanceof StoreError && error.kind === 'migrations_missing'
					? parameterError(this.getNode(), itemIndex, error.message, 'Apply the migrations in supabase/migrations to the project (sync_account_budgets).')
					: toNodeError(error, { node: this.getNode(), itemIndex, secrets: provider.secrets, action: 'Set Rate' });
			}
			output.push(...paired([{ error: (error as Error).message }], itemIndex));
		}
	}
	return output;
}
