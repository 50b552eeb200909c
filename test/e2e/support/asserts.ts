/** The e2e suite's assertions: plain functions that throw with what was expected and what came. */
export function assert(condition: unknown, message: string): asserts condition {
	if (!condition) throw new Error(message);
}

export function assertEqual<T>(actual: T, expected: T, what: string): void {
	if (JSON.stringify(actual) !== JSON.stringify(expected)) {
		throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
	}
}

export function assertIncludes(text: string, part: string, what: string): void {
	if (!text.includes(part)) throw new Error(`${what} should contain ${JSON.stringify(part)}:\n${text}`);
}

/** Waits until `condition` holds (polling), or fails naming what did not happen by the deadline. */
export async function waitUntil(condition: () => Promise<boolean> | boolean, timeoutMs: number, what: string, pollMs = 500): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await condition())) {
		if (Date.now() > deadline) throw new Error(`gave up waiting after ${Math.round(timeoutMs / 1000)} s: ${what}`);
		await new Promise((resolve) => setTimeout(resolve, pollMs));
	}
}
