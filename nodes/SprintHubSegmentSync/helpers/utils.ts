import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import type { EngineProgressEvent, EnrichmentMode, SegmentSyncResult, SyncRunOptions } from '../../../engine';
import { parameterError } from './errors';
import { numberOption, schemaOf } from './inputs';
import type { EngineSettings, SyncOptionsParameter } from './interfaces';
import type { ExecutionSecrets } from './secrets';

/**
 * Segment ids from a parameter: a number, "101", "101, 102", an array of those, or a resource
 * locator value. Anything else is a parameter error naming the bad value.
 */
export function parseSegmentIds(this: IExecuteFunctions, value: unknown, itemIndex: number, options: { multiple: boolean }): number[] {
	const raw = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/[\s,;]+/) : [value];
	const parts = raw.map((part) => (typeof part === 'string' ? part.trim() : part)).filter((part) => part !== '' && part !== undefined && part !== null);
	const ids: number[] = [];
	for (const part of parts) {
		const id = typeof part === 'number' ? part : typeof part === 'string' && /^\d+$/.test(part) ? Number(part) : NaN;
		if (!Number.isSafeInteger(id) || id <= 0) {
			throw parameterError(
				this.getNode(),
				itemIndex,
				`"${String(typeof part === 'object' ? JSON.stringify(part) : part)}" is not a segment id`,
				options.multiple
					? 'Use the numeric id of a SprintHub segment (e.g. 123), several separated by commas, or pick one from the list.'
					: 'Use the numeric id of a SprintHub segment (e.g. 123), or pick one from the list.',
			);
		}
		if (!ids.includes(id)) ids.push(id);
	}
	if (ids.length === 0) {
		throw parameterError(this.getNode(), itemIndex, 'No segment given', 'Pick a segment from the list or enter its numeric id.');
	}
	if (!options.multiple && ids.length > 1) {
		throw parameterError(this.getNode(), itemIndex, `Only one segment can be given here, got ${ids.join(', ')}`, 'Enter a single segment id.');
	}
	return ids;
}

/** A positive whole number from an option, or a parameter error saying which option is wrong. */
export function positiveInteger(this: IExecuteFunctions, value: unknown, name: string, itemIndex: number, max?: number): number | undefined {
	if (value === undefined || value === null || value === '') return undefined;
	const number = Number(value);
	if (!Number.isInteger(number) || number < 1 || (max !== undefined && number > max)) {
		throw parameterError(
			this.getNode(),
			itemIndex,
			`${name} must be a whole number from 1${max !== undefined ? ` to ${max}` : ''}, got ${JSON.stringify(value)}`,
			`Change the ${name} option.`,
		);
	}
	return number;
}

/** Engine settings (SprintHub budget, patience, schema) from an options collection. */
export function engineSettings(this: IExecuteFunctions, options: SyncOptionsParameter, itemIndex: number): EngineSettings {
	const requestsPerMinute = positiveInteger.call(this, options.requestsPerMinute, 'Requests Per Minute', itemIndex, 100_000);
	// A day at most, as the CLI's --patience: longer would hold an execution (and its lease) for days.
	const patienceMinutes = numberOption.call(this, options.patienceMinutes, 'Throttling Patience (Minutes)', itemIndex, {
		min: 0,
		max: 1440,
		fix: 'Change the Throttling Patience (Minutes) option: how long to wait out SprintHub throttling, e.g. 10.',
	});
	const schema = schemaOf.call(this, options.schema, itemIndex);
	return {
		requestsPerMinute,
		patienceMs: patienceMinutes === undefined ? undefined : Math.round(patienceMinutes * 60_000),
		schema,
	};
}

/** Run options for the engine from the Sync / Sync Due options. */
export function runOptions(this: IExecuteFunctions, options: SyncOptionsParameter, itemIndex: number): Omit<SyncRunOptions, 'trigger'> {
	const enrichment = options.enrichment && options.enrichment !== 'segment' ? (options.enrichment as EnrichmentMode) : undefined;
	const batchSize = positiveInteger.call(this, options.batchSize, 'Batch Size', itemIndex, 10_000);
	const databasePatience = positiveInteger.call(this, options.databasePatienceSeconds, 'Database Patience (Seconds)', itemIndex, 3_600);
	return {
		enrichment,
		fullRefresh: options.fullRefresh === true,
		dryRun: options.dryRun === true,
		detailConcurrency: positiveInteger.call(this, options.detailConcurrency, 'Detail Concurrency', itemIndex, 64),
		parallel: positiveInteger.call(this, options.parallel, 'Parallel Segments', itemIndex, 32),
		batch: batchSize ? { maxRows: batchSize, maxBytes: 1_000_000 } : undefined,
		databasePatienceMs: databasePatience ? databasePatience * 1000 : undefined,
	};
}

/** The one compact item a sync returns per segment: status, counts, duration, requests, errors. */
export function summaryOf(result: SegmentSyncResult, secrets: ExecutionSecrets): IDataObject {
	const s = result.stats;
	return secrets.redactJson({
		segmentId: result.segmentId,
		segmentName: result.segmentName,
		status: result.status,
		message: result.message,
		dryRun: result.dryRun,
		durationMs: result.durationMs,
		leadsSeen: s.leadsSeen,
		inserted: s.inserted,
		updated: s.updated,
		unchanged: s.unchanged,
		joined: s.joined,
		left: result.left,
		leftBlocked: result.leftBlocked,
		leaversPending: result.leaversPending,
		deleted: s.deleted,
		quarantined: s.failed,
		detailCalls: s.detailCalls,
		pages: s.pages,
		requests: s.requests,
		throttled: s.throttled,
		retries: s.retries,
		backoffMs: s.backoffMs,
		successRate: result.successRate,
		complete: result.complete,
		resumed: result.resumed,
		runId: result.runId,
		nextExecution: result.nextExecution,
		errorCount: result.errors.length,
		errors: result.errors.map((error) => ({ errorClass: error.errorClass, code: error.code ?? null, message: error.message })),
		...(result.error ? { error: { errorClass: result.error.errorClass, code: result.error.code ?? null, message: result.error.message, hint: result.error.hint } } : {}),
	} as IDataObject);
}

/**
 * Progress lines for n8n's log and, in manual runs, for the browser console of the editor.
 * Pages are reported at most every few seconds so that big segments do not flood either.
 */
export function progressReporter(this: IExecuteFunctions, secrets: ExecutionSecrets): (event: EngineProgressEvent) => void {
	const manual = this.getMode() === 'manual' && typeof this.sendMessageToUI === 'function';
	const lastPageLine = new Map<number, number>();
	const say = (level: 'info' | 'debug' | 'warn', text: string, toUi: boolean) => {
		const line = secrets.redact(text);
		this.logger[level](`SprintHub Segment Sync: ${line}`, { node: this.getNode().name });
		if (toUi && manual) this.sendMessageToUI(line);
	};
	return (event) => {
		switch (event.type) {
			case 'claimed':
				say('info', `segment ${event.segmentId}: run ${event.runId} started${event.resumedAtPage !== null ? ` (resuming at page ${event.resumedAtPage})` : ''}`, true);
				break;
			case 'page': {
				const now = Date.now();
				const last = lastPageLine.get(event.segmentId) ?? 0;
				const text = `segment ${event.segmentId}: page ${event.page}, ${event.seen} of ${event.total} leads seen`;
				if (now - last >= 2_000 || event.seen >= event.total) {
					lastPageLine.set(event.segmentId, now);
					say('info', text, true);
				} else {
					say('debug', text, false);
				}
				break;
			}
			case 'throttled':
				say('warn', `segment ${event.segmentId}: SprintHub is throttling; waiting ${Math.round(event.waitMs / 1000)} s, now ${event.requestsPerMinute} requests/min`, true);
				break;
			case 'budget':
				say(event.mode === 'fallback' ? 'warn' : 'info', `segment ${event.segmentId}: ${event.message}`, true);
				break;
			case 'retry':
				say('debug', `segment ${event.segmentId}: retry ${event.attempt} after: ${event.message}`, false);
				break;
			case 'finished':
				say('info', `segment ${event.segmentId}: ${event.status} in ${Math.round(event.durationMs / 100) / 10} s. ${event.message}`, true);
				break;
			default:
				say('debug', `segment ${event.segmentId}: ${event.type}`, false);
		}
	};
}

/** Output items paired to one input item. */
export function paired(items: IDataObject[], itemIndex: number): INodeExecutionData[] {
	return items.map((json) => ({ json, pairedItem: { item: itemIndex } }));
}
