import { hash32, Random } from './random';

/** Which API call a request is, by its path (used by fault rules, the log and the counters). */
export type Endpoint = 'segmentLeads' | 'leadDetail' | 'segments' | 'leads' | 'other';

export type FaultKind = 'status' | 'truncate' | 'wrongShape' | 'delay' | 'drop';

/**
 * One fault rule. What it does:
 * - `status`: answers `status` (default 502) with an HTML gateway page (or `body` as given) without reaching
 *   the API: no rate budget is spent.
 * - `truncate`: the real answer, cut in half (a complete HTTP response whose JSON does not parse).
 * - `wrongShape`: HTTP 200 with `body` (default `{"result":"ok","data":"unexpected"}`) instead of the answer.
 * - `delay`: waits `delayMs` (default 2000) before the real answer.
 * - `drop`: sends the status line, headers and half the body, then destroys the socket.
 *
 * When it fires, among the calls that match `method`, `endpoint` and `path` (all optional):
 * - `nth: n` → the n-th matching call (1-based, counted from when the rule was added), and with `times: k`
 *   the k calls from the n-th on;
 * - `times: k` alone → the next k matching calls;
 * - `share: p` → each matching call with probability p from a seeded stream (`seed`, else the simulator's seed
 *   and the rule's position),
 *   at most `times` times when given;
 * - none of these → every matching call.
 * Rules are checked in the order they were added; the first that fires applies.
 */
export interface FaultRule {
	kind: FaultKind;
	method?: string;
	endpoint?: Endpoint;
	/** Exact pathname (string) or a pattern tested against the pathname. */
	path?: string | RegExp;
	nth?: number;
	times?: number;
	share?: number;
	seed?: number;
	status?: number;
	body?: unknown;
	delayMs?: number;
}

export interface FaultHandle {
	readonly rule: FaultRule;
	/** Calls that matched the rule's filters so far. */
	readonly matched: number;
	/** Calls the rule actually faulted. */
	readonly fired: number;
	remove(): void;
}

interface RuleState {
	rule: FaultRule;
	matched: number;
	fired: number;
	random: Random;
}

export class FaultInjector {
	private rules: RuleState[] = [];
	private added = 0;

	constructor(private readonly seed: number) {}

	add(rule: FaultRule): FaultHandle {
		const state: RuleState = { rule: { ...rule }, matched: 0, fired: 0, random: new Random(rule.seed === undefined ? hash32(this.seed, ++this.added, 0xfa17) : hash32(rule.seed, 0xfa17)) };
		this.rules.push(state);
		return {
			rule: state.rule,
			get matched() {
				return state.matched;
			},
			get fired() {
				return state.fired;
			},
			remove: () => {
				this.rules = this.rules.filter((candidate) => candidate !== state);
			},
		};
	}

	clear(): void {
		this.rules = [];
	}

	get size(): number {
		return this.rules.length;
	}

	/** Counts the call against every matching rule and returns the first rule that fires, if any. */
	decide(method: string, endpoint: Endpoint, pathname: string): FaultRule | undefined {
		let chosen: FaultRule | undefined;
		for (const state of this.rules) {
			const { rule } = state;
			if (rule.method && rule.method.toUpperCase() !== method.toUpperCase()) continue;
			if (rule.endpoint && rule.endpoint !== endpoint) continue;
			if (typeof rule.path === 'string' && rule.path !== pathname) continue;
			if (rule.path instanceof RegExp && !rule.path.test(pathname)) continue;
			state.matched++;
			if (chosen || !this.fires(state)) continue;
			state.fired++;
			chosen = rule;
		}
		return chosen;
	}

	private fires(state: RuleState): boolean {
		const { rule, matched, fired } = state;
		if (rule.share !== undefined) return (rule.times === undefined || fired < rule.times) && state.random.next() < rule.share;
		if (rule.nth !== undefined) return matched >= rule.nth && matched < rule.nth + (rule.times ?? 1);
		if (rule.times !== undefined) return fired < rule.times;
		return true;
	}
}

export const GATEWAY_PAGE = (status: number): string => {
	const title = status === 503 ? '503 Service Temporarily Unavailable' : status === 504 ? '504 Gateway Time-out' : `${status} Bad Gateway`;
	return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
};
