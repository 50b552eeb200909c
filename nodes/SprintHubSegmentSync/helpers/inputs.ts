/**
 * Values a user types into the node, checked where they enter: a wrong one stops its item with a
 * NodeOperationError that names the field and says what to type instead. n8n's minValue/maxValue
 * only bind the editor's number box; an expression can still hand over anything.
 */
import type { IExecuteFunctions } from 'n8n-workflow';
import { schemaNameProblem } from '../../../engine';
import { thresholdsFrom, type HealthThresholds } from '../../../engine/report/alerts';
import { parameterError } from './errors';

/** The Database Schema option, checked (undefined: the default, public). */
export function schemaOf(this: IExecuteFunctions, value: unknown, itemIndex: number): string | undefined {
	if (value === undefined || value === null) return undefined;
	const schema = String(value).trim();
	if (!schema) return undefined;
	if (schemaNameProblem(schema)) {
		throw parameterError(
			this.getNode(),
			itemIndex,
			`Database Schema "${schema.slice(0, 63)}" is not a schema name`,
			'Change the Database Schema option to the name of a schema exposed in the Supabase Data API, e.g. public: letters, digits and underscores, not starting with a digit, at most 63 characters.',
		);
	}
	return schema;
}

/** The Database Schema option of an operation's Options collection. */
export function schemaOption(this: IExecuteFunctions, itemIndex: number): string | undefined {
	const options = this.getNodeParameter('options', itemIndex, {}) as { schema?: unknown };
	return schemaOf.call(this, options.schema, itemIndex);
}

/** Health thresholds from the options; a threshold that is not a number in range stops the item. */
export function healthThresholds(this: IExecuteFunctions, options: Partial<Record<keyof HealthThresholds, unknown>>, itemIndex: number): HealthThresholds {
	const checked = thresholdsFrom(options);
	if ('message' in checked) throw parameterError(this.getNode(), itemIndex, checked.message, `Change the ${checked.message.split(' must ')[0]} option to a number (leave it out for the default).`);
	return checked.thresholds;
}

/** A number option within a range (undefined when not set); `integer` asks for a whole number. */
export function numberOption(
	this: IExecuteFunctions,
	value: unknown,
	name: string,
	itemIndex: number,
	range: { min: number; max: number; integer?: boolean; fix?: string },
): number | undefined {
	if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return undefined;
	const number = typeof value === 'number' ? value : typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN;
	if (!Number.isFinite(number) || number < range.min || number > range.max || (range.integer && !Number.isInteger(number))) {
		throw parameterError(
			this.getNode(),
			itemIndex,
			`${name} must be ${range.integer ? 'a whole number' : 'a number'} from ${range.min} to ${range.max}, got ${JSON.stringify(value)}`,
			range.fix ?? `Change the ${name} option.`,
		);
	}
	return number;
}

/** A date-time option as an ISO string (undefined when not set). */
export function dateOption(this: IExecuteFunctions, value: unknown, name: string, itemIndex: number): string | undefined {
	if (value === undefined || value === null || value === '') return undefined;
	const time = value instanceof Date ? value.getTime() : Date.parse(String(value));
	if (!Number.isFinite(time)) {
		throw parameterError(this.getNode(), itemIndex, `${name} is not a date and time, got ${JSON.stringify(String(value))}`, `Pick a date in the ${name} option, or write it as 2026-12-01T06:00:00Z.`);
	}
	return new Date(time).toISOString();
}
