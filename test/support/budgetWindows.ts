/**
 * The account budget's promise, checked on what the simulator saw: over any window of T seconds the
 * account's calls stay within the bucket's capacity plus the rate over T + the slack (README: "Over any
 * window of T seconds the account's calls stay within the bucket's capacity … plus the rate × (T + 1 s)").
 * Every window between two calls of the log is tried, so no window size is picked by hand.
 */
import type { RequestLogEntry } from './simulator';

export interface BudgetWindow {
	/** Calls that started in the window (both ends included). */
	calls: number;
	/** From the first to the last of those calls, in ms. */
	spanMs: number;
	/** What the budget allows in such a window: capacity + perMinute × (span + slack) / 60 s. */
	allowed: number;
	/** Epoch ms of the window's first call. */
	from: number;
}

export interface BudgetWindows {
	calls: number;
	throttled: number;
	/** The window with the most calls above (or least below) what the budget allows. */
	worst: BudgetWindow;
	/** Most calls in any window of `probeMs`, and what the budget allows there. */
	inProbe: { windowMs: number; calls: number; allowed: number };
}

export function budgetWindows(
	requests: readonly RequestLogEntry[],
	budget: { perMinute: number; capacity: number; slackMs: number },
	probeMs = 10_000,
): BudgetWindows {
	const times = requests.map((entry) => entry.startedAt).sort((a, b) => a - b);
	const allowed = (spanMs: number) => budget.capacity + (budget.perMinute * (spanMs + budget.slackMs)) / 60_000;
	let worst: BudgetWindow = { calls: 0, spanMs: 0, allowed: allowed(0), from: times[0] ?? 0 };
	let inProbe = 0;
	let probeFirst = 0;
	for (let last = 0; last < times.length; last++) {
		for (let first = 0; first <= last; first++) {
			const window = { calls: last - first + 1, spanMs: times[last] - times[first], allowed: 0, from: times[first] };
			window.allowed = allowed(window.spanMs);
			if (window.calls - window.allowed > worst.calls - worst.allowed) worst = window;
		}
		while (times[last] - times[probeFirst] >= probeMs) probeFirst++;
		inProbe = Math.max(inProbe, last - probeFirst + 1);
	}
	return {
		calls: times.length,
		throttled: requests.filter((entry) => entry.throttled).length,
		worst,
		inProbe: { windowMs: probeMs, calls: inProbe, allowed: allowed(probeMs) },
	};
}
