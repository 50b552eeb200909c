/**
 * Flags and positionals as typed, checked once for every command: a bad value is a usage error
 * that names the flag or id to fix.
 */
import type { EnrichmentMode } from '../../engine';
import { UsageError } from '../errors';

/** The largest id the CLI takes: ids are exact JavaScript numbers (and fit the database's bigint). */
export const LARGEST_ID = Number.MAX_SAFE_INTEGER;

/** Segment (or lead) ids as typed: positive integers only, with a message naming the bad one. */
export function parseSegmentIds(args: string[], what = 'segment'): number[] {
	return args.map((arg) => {
		const text = arg.trim();
		if (/^\d+$/.test(text) && !Number.isSafeInteger(Number(text))) {
			throw new UsageError(`The ${what} id "${arg}" is too large: the largest ${what} id accepted is ${LARGEST_ID}.`);
		}
		const id = /^\d+$/.test(text) ? Number(text) : NaN;
		if (!Number.isSafeInteger(id) || id <= 0) {
			throw new UsageError(`The ${what} id "${arg}" is not a positive integer: use the numeric id from SprintHub, e.g. 123.`);
		}
		return id;
	});
}

export function numberFlag(flags: Record<string, unknown>, name: string, options: { integer?: boolean; min?: number; max?: number } = {}): number | undefined {
	const raw = flags[name];
	if (raw === undefined) return undefined;
	const text = String(raw).trim();
	const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
	const min = options.min ?? 1;
	const valid = Number.isFinite(value) && value >= min && (options.max === undefined || value <= options.max) && (!options.integer || Number.isInteger(value));
	if (!valid) {
		const kind = options.integer ? 'an integer' : 'a number';
		const range = options.max !== undefined ? ` from ${min} to ${options.max}` : ` of at least ${min}`;
		throw new UsageError(`--${name} needs ${kind}${range}, not "${text}".`);
	}
	return value;
}

export function enrichmentFlag(flags: Record<string, unknown>): EnrichmentMode | undefined {
	const value = flags.enrichment;
	if (value === undefined) return undefined;
	if (value === 'auto' || value === 'changed' || value === 'all' || value === 'none') return value;
	throw new UsageError(`--enrichment is auto, changed, all or none, not "${String(value)}".`);
}

export function progressFlag(flags: Record<string, unknown>): 'auto' | 'bar' | 'lines' | 'none' {
	const value = flags.progress ?? 'auto';
	if (value === 'auto' || value === 'bar' || value === 'lines' || value === 'none') return value;
	throw new UsageError(`--progress is auto, bar, lines or none, not "${String(value)}".`);
}
