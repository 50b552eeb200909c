import type { INodeProperties } from 'n8n-workflow';
import * as setRate from './setRate.operation';

export { setRate };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['account'] } },
		options: [
			{
				name: 'Set Rate',
				value: 'setRate',
				description: 'Set the SprintHub requests per minute shared by every process of this account',
				action: 'Set the account rate',
			},
		],
		default: 'setRate',
	},
	...setRate.description,
];
