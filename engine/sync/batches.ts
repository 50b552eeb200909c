/**
 * Splits records into batches bounded by rows and by JSON bytes, so one database call stays well
 * inside Supabase's statement timeout and request limits whatever the records hold.
 */
export interface BatchLimits {
	maxRows: number;
	maxBytes: number;
}

export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxRows: 500, maxBytes: 1_000_000 };

export function* batchesOf<T>(items: readonly T[], limits: BatchLimits): Generator<T[]> {
	let batch: T[] = [];
	let bytes = 2;
	for (const item of items) {
		const size = Buffer.byteLength(JSON.stringify(item) ?? 'null') + 1;
		if (batch.length > 0 && (batch.length >= limits.maxRows || bytes + size > limits.maxBytes)) {
			yield batch;
			batch = [];
			bytes = 2;
		}
		batch.push(item);
		bytes += size;
	}
	if (batch.length > 0) yield batch;
}
