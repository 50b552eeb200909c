import type { INodeProperties } from 'n8n-workflow';
import * as check from './check.operation';

export { check };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['syncHealth'] } },
		options: [
			{
				name: 'Check',
				value: 'check',
				description: 'Report segments whose alert state changed since the last check',
				action: 'Check sync health',
			},
		],
		default: 'check',
	},
	...check.description,
];
