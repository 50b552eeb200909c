import type { INodeProperties } from 'n8n-workflow';
import * as get from './get.operation';
import * as upsert from './upsert.operation';

export { get, upsert };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['lead'] } },
		options: [
			{ name: 'Get', value: 'get', description: 'Get one lead with every field from SprintHub', action: 'Get a lead' },
			{
				name: 'Create or Update',
				value: 'upsert',
				description: 'Create a new record, or update the current one if it already exists (upsert)',
				action: 'Create or update leads',
			},
		],
		default: 'upsert',
	},
	...get.description,
	...upsert.description,
];
