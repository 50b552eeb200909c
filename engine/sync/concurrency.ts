import { cancelledError } from '../errors';

/**
 * Runs `work` over `items` with at most `limit` in flight, in order of start, and stops starting
 * new ones once the signal fires or one call fails (the first failure is rethrown after the calls
 * in flight settle, so nothing runs on after we return).
 */
export async function mapWithConcurrency<T, R>(
	items: readonly T[],
	limit: number,
	work: (item: T, index: number) => Promise<R>,
	signal?: AbortSignal,
): Promise<R[]> {
	const results = new Array<R>(items.length);
	let next = 0;
	let failure: { error: unknown } | undefined;
	const worker = async () => {
		while (!failure && next < items.length) {
			if (signal?.aborted) {
				failure ??= { error: cancelledError('The sync') };
				return;
			}
			const index = next++;
			try {
				results[index] = await work(items[index], index);
			} catch (error) {
				failure ??= { error };
			}
		}
	};
	await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
	if (failure) throw failure.error;
	return results;
}
