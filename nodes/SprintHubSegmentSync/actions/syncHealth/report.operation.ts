import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { loadReport, renderReportHtml } from '../../../../engine';
import { parameterError } from '../../helpers/errors';
import { healthThresholds, numberOption, schemaOf } from '../../helpers/inputs';
import { forEachItem } from '../../helpers/itemLoop';
import type { EngineProvider } from '../../transport';
import { schemaOptionProperty } from '../common.descriptions';

interface ReportOptions {
	days?: number;
	requestsPerMinute?: number;
	maxConsecutiveFailures?: number;
	maxRunMinutes?: number;
	minSuccessRate?: number;
	schema?: string;
}

const properties: INodeProperties[] = [
	{
		displayName: 'Format',
		name: 'format',
		type: 'options',
		options: [
			{
				name: 'HTML Page',
				value: 'html',
				description: 'One self-contained page (no script, loads nothing) in the field html, for Respond to Webhook or an e-mail',
			},
			{ name: 'JSON', value: 'json', description: 'The figures behind the page, one item' },
		],
		default: 'html',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		options: [
			schemaOptionProperty,
			{
				displayName: 'Days',
				name: 'days',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 366 },
				default: 30,
				description: 'How many days of runs the charts show',
			},
			{
				displayName: 'Max Consecutive Failures',
				name: 'maxConsecutiveFailures',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 5,
				description: 'A segment with more failed runs in a row than this is flagged failing (as in Check)',
			},
			{
				displayName: 'Max Run Minutes',
				name: 'maxRunMinutes',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 10,
				description: 'Drawn as the alert line of the duration charts; a longer last run is flagged slow',
			},
			{
				displayName: 'Min Success Rate (%)',
				name: 'minSuccessRate',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 100 },
				default: 95,
				description: 'Drawn as the alert line of the success-rate charts',
			},
			{
				displayName: 'Requests Per Minute',
				name: 'requestsPerMinute',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 80,
				description: 'The account’s SprintHub budget, drawn on the calls-per-hour chart (as set in Sync Due)',
			},
		],
	},
];

export const description = updateDisplayOptions({ show: { resource: ['syncHealth'], operation: ['report'] } }, properties);

/** One item per input item: the report page (field html) or its figures (JSON), from the database only. */
export async function execute(this: IExecuteFunctions, items: INodeExecutionData[], provider: EngineProvider): Promise<INodeExecutionData[]> {
	return forEachItem.call(this, items, provider.secrets, () => 'Sync Health Report', async (itemIndex) => {
		const format = this.getNodeParameter('format', itemIndex, 'html') as 'html' | 'json';
		const options = this.getNodeParameter('options', itemIndex, {}) as ReportOptions;
		const days = Number(options.days ?? 30);
		if (!Number.isInteger(days) || days < 1 || days > 366) {
			throw parameterError(this.getNode(), itemIndex, `Days must be a whole number from 1 to 366, not ${String(options.days)}`, 'Set Days to how many days of runs to chart, e.g. 30.');
		}
		const { maxConsecutiveFailures, maxRunMinutes, minSuccessRate } = healthThresholds.call(this, options, itemIndex);
		const requestsPerMinute =
			numberOption.call(this, options.requestsPerMinute, 'Requests Per Minute', itemIndex, {
				min: 1,
				max: 1_000_000,
				fix: 'Set Requests Per Minute to the account’s SprintHub budget, e.g. 80 (it draws the budget line of the calls chart).',
			}) ?? 80;
		const engine = await provider.engine(itemIndex, { schema: schemaOf.call(this, options.schema, itemIndex) });
		const report = await loadReport(engine.store, {
			days,
			requestsPerMinute,
			thresholds: { maxConsecutiveFailures, maxRunMinutes, minSuccessRate },
		});
		const summary: IDataObject = { generatedAt: report.generatedAt, days, segments: report.totals.segments, needingAttention: report.totals.needingAttention };
		const json: IDataObject =
			format === 'json' ? (report as unknown as IDataObject) : { ...summary, contentType: 'text/html; charset=utf-8', html: renderReportHtml(report) };
		return [{ json: provider.secrets.redactJson(json), pairedItem: { item: itemIndex } }];
	});
}
