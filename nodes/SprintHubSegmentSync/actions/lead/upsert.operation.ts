import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { parameterError, toNodeError } from '../../helpers/errors';
import { readPath, refuseAgentChoice } from '../../helpers/fixedByUser';
import { numberOption, schemaOf } from '../../helpers/inputs';
import { errorItem } from '../../helpers/itemLoop';
import type { EngineProvider } from '../../transport';
import { schemaOptionProperty } from '../common.descriptions';
import { upsertFetched } from './upsertFetched';
import { upsertGiven } from './upsertGiven';

export type UpsertSource = 'fetch' | 'input';

/** One record (or lead id) of an input item, with the options of that item. */
export interface PendingRecord {
	itemIndex: number;
	record: unknown;
	complete: boolean;
	schema?: string;
	coalesceMs: number;
}

const properties: INodeProperties[] = [
	{
		displayName: 'Record Source',
		name: 'source',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Fetch From SprintHub',
				value: 'fetch',
				description:
					'The input only names the lead (its ID); the record written is the one SprintHub returns now. A forged or stale body cannot change what is stored; an ID SprintHub does not know writes nothing (a stored lead is marked deleted).',
			},
			{
				name: 'Use the Input Record (Trusted Input Only)',
				value: 'input',
				description:
					'Writes the records as given, for input you trust. A lead marked deleted is not brought back, and a stored lead with a newer updatedDate is not overwritten.',
			},
		],
		default: 'fetch',
	},
	{
		displayName: 'Record Field',
		name: 'recordField',
		type: 'string',
		default: '',
		placeholder: 'body',
		description:
			'Where the lead is in each input item: empty for the whole item, or a field path such as body (a Webhook node) or body.lead. An array there gives several leads. A {"data": {"lead": …}} wrapper is unwrapped. Fetch From SprintHub reads only the ID there (a record with an ID, or the ID itself).',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		options: [
			{
				displayName: 'Coalesce Window (Seconds)',
				name: 'coalesceSeconds',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 60 },
				default: 2,
				description:
					'Fetch From SprintHub: calls for the same lead within this window share one SprintHub call (within this n8n process)',
			},
			{
				displayName: 'Complete Records',
				name: 'complete',
				type: 'boolean',
				default: false,
				description:
					'Whether each record carries every field of the lead (Use the Input Record only): it then replaces what is stored. Off: the fields given are merged into the stored record, as for a partial webhook body.',
			},
			schemaOptionProperty,
		],
	},
];

export const description = updateDisplayOptions({ show: { resource: ['lead'], operation: ['upsert'] } }, properties);

/**
 * Reads every item's leads with that item's options, then writes them: fetched from SprintHub (the
 * default) or as given. Each lead comes back as one item saying what happened, so a bad record never
 * fails the others.
 */
export async function execute(this: IExecuteFunctions, items: INodeExecutionData[], provider: EngineProvider): Promise<INodeExecutionData[]> {
	const rawSource = this.getNode().parameters.source;
	if (typeof rawSource === 'string' && rawSource.startsWith('=')) {
		throw parameterError(this.getNode(), 0, 'Record Source cannot be an expression', 'Pick Fetch From SprintHub or Use the Input Record in the node itself.');
	}
	const source = (this.getNodeParameter('source', 0, 'fetch') as UpsertSource) === 'input' ? 'input' : 'fetch';
	const output: Array<INodeExecutionData[] | undefined> = items.map(() => undefined);
	const pending: PendingRecord[] = [];
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		try {
			refuseAgentChoice(this.getNode(), itemIndex, [
				{ path: 'options.complete', label: 'Complete Records' },
				{ path: 'options.schema', label: 'Database Schema' },
			]);
			const field = String(this.getNodeParameter('recordField', itemIndex, '') ?? '').trim();
			const options = this.getNodeParameter('options', itemIndex, {}) as { complete?: unknown; schema?: unknown; coalesceSeconds?: unknown };
			const coalesceSeconds =
				numberOption.call(this, options.coalesceSeconds, 'Coalesce Window (Seconds)', itemIndex, { min: 0, max: 60, fix: 'Set Coalesce Window to a number of seconds, e.g. 2.' }) ?? 2;
			const value = field ? readPath(items[itemIndex].json, field) : items[itemIndex].json;
			if (value === undefined) {
				throw parameterError(
					this.getNode(),
					itemIndex,
					`Input item ${itemIndex} has no field "${field}"`,
					'Set Record Field to where the lead record is in the input item (empty for the whole item).',
				);
			}
			const settings = { complete: options.complete === true, schema: schemaOf.call(this, options.schema, itemIndex), coalesceMs: Math.round(coalesceSeconds * 1000) };
			for (const record of Array.isArray(value) ? value : [value]) pending.push({ itemIndex, record: unwrap(record), ...settings });
			output[itemIndex] = [];
		} catch (error) {
			const nodeError = toNodeError(error, { node: this.getNode(), itemIndex, secrets: provider.secrets, action: 'Lead Upsert' });
			if (!this.continueOnFail()) throw nodeError;
			output[itemIndex] = [errorItem(nodeError, itemIndex)];
		}
	}
	if (source === 'fetch') await upsertFetched.call(this, pending, output, provider);
	else await upsertGiven.call(this, pending, output, provider);
	this.logger.info(`SprintHub Segment Sync: ${pending.length} lead(s) upserted (${source === 'fetch' ? 'fetched from SprintHub' : 'as given'})`, {
		node: this.getNode().name,
	});
	return output.flatMap((entry) => entry ?? []);
}

/** SprintHub answers wrap a lead as {"data": {"lead": …}}; webhooks may send it bare. */
function unwrap(record: unknown): unknown {
	const data = record && typeof record === 'object' ? (record as { data?: { lead?: unknown } }).data : undefined;
	if (data && typeof data === 'object' && data.lead && typeof data.lead === 'object') return data.lead;
	return record;
}
