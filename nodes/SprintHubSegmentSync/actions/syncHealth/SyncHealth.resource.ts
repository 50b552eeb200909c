import type { INodeProperties } from 'n8n-workflow';
import * as check from './check.operation';
import * as report from './report.operation';

export { check, report };

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
			{
				name: 'Report',
				value: 'report',
				description: 'The sync health dashboard: a card and charts per segment, as an HTML page or JSON',
				action: 'Report sync health',
			},
		],
		default: 'check',
	},
	...check.description,
	...report.description,
];
