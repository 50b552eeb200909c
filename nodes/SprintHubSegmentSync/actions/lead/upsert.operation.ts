import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import type { LeadUpsertResult } from '../../../../engine/store';
import { parameterError, toNodeError } from '../../helpers/errors';
import { errorItem } from '../../helpers/itemLoop';
import type { EngineProvider } from '../../transport';
import { schemaOptionProperty } from '../common.descriptions';

const CHUNK = 500;

const properties: INodeProperties[] = [
	{
		displayName: 'Record Field',
		name: 'recordField',
		type: 'string',
		default: '',
		placeholder: 'body',
		description:
			'Where the SprintHub lead record is in each input item: empty for the whole item, or a field path such as body (a Webhook node) or body.lead. An array there upserts every record in it. A {"data": {"lead": …}} wrapper is unwrapped.',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		options: [
			{
				displayName: 'Complete Records',
				name: 'complete',
				type: 'boolean',
				default: false,
				description:
					'Whether each record carries every field of the lead (it then replaces what is stored). Off: the fields given are merged into the stored record, as for a partial webhook body.',
			},
			schemaOptionProperty,
		],
	},
];

export const description = updateDisplayOptions({ show: { resource: ['lead'], operation: ['upsert'] } }, properties);

interface PendingRecord {
	itemIndex: number;
	record: unknown;
}

/**
 * Every item's records go to the database in a few calls (chunks of 500). Each record comes back as
 * one item saying what happened (inserted, updated, unchanged, rejected with the reason, duplicate),
 * so a bad record never fails the others.
 */
export async function execute(this: IExecuteFunctions, items: INodeExecutionData[], provider: EngineProvider): Promise<INodeExecutionData[]> {
	const output: Array<INodeExecutionData[] | undefined> = items.map(() => undefined);
	const pending: PendingRecord[] = [];
	let complete = false;
	let schema: string | undefined;
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		try {
			const field = String(this.getNodeParameter('recordField', itemIndex, '') ?? '').trim();
			const options = this.getNodeParameter('options', itemIndex, {}) as { complete?: boolean; schema?: string };
			if (itemIndex === 0) {
				complete = options.complete === true;
				schema = options.schema?.trim() || undefined;
			}
			const value = field ? readPath(items[itemIndex].json, field) : items[itemIndex].json;
			if (value === undefined) {
				throw parameterError(
					this.getNode(),
					itemIndex,
					`Input item ${itemIndex} has no field "${field}"`,
					'Set Record Field to where the lead record is in the input item (empty for the whole item).',
				);
			}
			for (const record of Array.isArray(value) ? value : [value]) pending.push({ itemIndex, record: unwrap(record) });
			output[itemIndex] = [];
		} catch (error) {
			const nodeError = toNodeError(error, { node: this.getNode(), itemIndex, secrets: provider.secrets, action: 'Lead Upsert' });
			if (!this.continueOnFail()) throw nodeError;
			output[itemIndex] = [errorItem(nodeError, itemIndex)];
		}
	}

	for (let start = 0; start < pending.length; start += CHUNK) {
		const chunk = pending.slice(start, start + CHUNK);
		let results: LeadUpsertResult[];
		try {
			const engine = await provider.engine(chunk[0].itemIndex, { schema });
			results = await engine.store.upsertLeads(chunk.map((entry) => entry.record), { complete });
		} catch (error) {
			const itemIndexes = [...new Set(chunk.map((entry) => entry.itemIndex))];
			const nodeError = toNodeError(error, { node: this.getNode(), itemIndex: itemIndexes[0], secrets: provider.secrets, action: 'Lead Upsert' });
			if (!this.continueOnFail()) throw nodeError;
			for (const itemIndex of itemIndexes) {
				if (output[itemIndex]!.some((item) => item.error)) continue;
				output[itemIndex] = [errorItem(nodeError, itemIndex)];
			}
			continue;
		}
		results.forEach((result, position) => {
			const { itemIndex } = chunk[position];
			const target = output[itemIndex]!;
			if (target.some((item) => item.error)) return;
			target.push({ json: resultItem(result), pairedItem: { item: itemIndex } });
		});
	}
	const counts = pending.length;
	this.logger.info(`SprintHub Segment Sync: ${counts} lead record(s) upserted`, { node: this.getNode().name });
	return output.flatMap((entry) => entry ?? []);
}

function resultItem(result: LeadUpsertResult): IDataObject {
	return {
		id: result.id as IDataObject['id'],
		status: result.status,
		reason: result.reason,
		castProblems: result.cast_problems as IDataObject | null,
	};
}

/** SprintHub answers wrap a lead as {"data": {"lead": …}}; webhooks may send it bare. */
function unwrap(record: unknown): unknown {
	const data = record && typeof record === 'object' ? (record as { data?: { lead?: unknown } }).data : undefined;
	if (data && typeof data === 'object' && data.lead && typeof data.lead === 'object') return data.lead;
	return record;
}

function readPath(json: IDataObject, path: string): unknown {
	let value: unknown = json;
	for (const key of path.split('.')) {
		if (value === null || typeof value !== 'object') return undefined;
		value = (value as Record<string, unknown>)[key];
	}
	return value;
}
