import type { INodeProperties } from 'n8n-workflow';
import * as checkWebhook from './checkWebhook.operation';
import * as get from './get.operation';
import * as upsert from './upsert.operation';

export { checkWebhook, get, upsert };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['lead'] } },
		options: [
			{
				name: 'Check Webhook Request',
				value: 'checkWebhook',
				description: 'Check a request a Webhook node received (URL secret, content type, size, lead ID) before anything is written',
				action: 'Check a webhook request',
			},
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
	...checkWebhook.description,
	...get.description,
	...upsert.description,
];
