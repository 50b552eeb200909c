import type { RequestLogEntry } from '../support/simulator';
import { Random } from '../support/simulator/random';
import { budgetFigures, budgetKept } from '../soak/invariants';
import { planRound, type RoundPlan } from '../soak/plan';
import { armFaults } from '../soak/round';
import { emptyChurn } from '../soak/ideal';
import { startSimulator } from '../support/simulator';
import type { SyncWorld } from '../support/world';

const SEGMENTS = [1, 2, 3, 4];

function plans(seed: number, rounds: number) {
	const random = new Random(seed);
	return Array.from({ length: rounds }, (_, index) => planRound(random, index + 1, SEGMENTS));
}

function calls(...startedAt: number[]): RequestLogEntry[] {
	return startedAt.map((at, index) => ({ seq: index + 1, startedAt: at }) as RequestLogEntry);
}

describe('the soak: its schedule and its budget check', () => {
	it('a seed names one schedule: the same plans every time, other plans for another seed', () => {
		expect(plans(18, 50)).toEqual(plans(18, 50));
		expect(plans(19, 50)).not.toEqual(plans(18, 50));
	});

	it('the schedule holds every kind of trouble the issue lists, over enough rounds', () => {
		const all = plans(1, 200);
		expect(all.every((plan) => plan.processes.length >= 1 && plan.processes.every((id) => SEGMENTS.includes(id)))).toBe(true);
		expect(all.some((plan) => new Set(plan.processes).size < plan.processes.length)).toBe(true);
		expect(all.some((plan) => plan.kills.some((kill) => 'atRequest' in kill.at))).toBe(true);
		expect(all.some((plan) => plan.kills.some((kill) => 'afterMs' in kill.at))).toBe(true);
		expect(new Set(all.flatMap((plan) => plan.apiFaults.map((fault) => fault.rule.kind)))).toEqual(new Set(['status', 'truncate', 'wrongShape', 'drop', 'delay']));
		expect(new Set(all.flatMap((plan) => (plan.throttle ? [plan.throttle.mode] : [])))).toEqual(new Set(['401', '429']));
		expect(new Set(all.flatMap((plan) => plan.databaseFaults.map((fault) => fault.kind)))).toEqual(new Set(['503', 'drop', 'loseAnswer', 'hang']));
		const churn = new Set(all.flatMap((plan) => [...plan.churnBefore, ...plan.churnDuring.map((during) => during.churn)].map((op) => op.op)));
		expect(churn).toEqual(new Set(['join', 'leave', 'change', 'remove']));
	});

	it('the budget figures count calls in sliding windows; the check fails past capacity + rate × (span + 2 s)', () => {
		// 120 a minute = 2 a second; the report's bound for a 1 s window: max(2, 0.5) + 2 × 2 = 6 calls.
		const within = budgetFigures(calls(0, 100, 200, 300, 400, 500, 1500, 2500), 120);
		expect(within.windows[0]).toEqual({ seconds: 1, maxCalls: 6, bound: 6 });
		expect(within.maxPerMinute).toBe(8);
		// Capacity 2 + 2/s × (0.6 s + 2 s) = 7.2: seven calls in 0.6 s pass, eight do not.
		expect(budgetKept(calls(0, 100, 200, 300, 400, 500, 600), 120, 2).ok).toBe(true);
		expect(budgetKept(calls(0, 100, 200, 300, 400, 500, 600, 600), 120, 2)).toMatchObject({ ok: false });
	});

	it('a round\'s faults, once disarmed, are gone and arm nothing more (a kill point waiting for a request included)', async () => {
		const sim = await startSimulator({ segments: [{ id: 1, name: 'One', size: 5 }], rateLimit: null });
		const gateway = { requests: [] as Array<{ faulted: boolean }>, clearFaults: jest.fn(), addFault: jest.fn() };
		const world = { sim, stack: { gateway } } as unknown as SyncWorld;
		try {
			const plan: RoundPlan = {
				round: 1, processes: [1], kills: [], churnBefore: [], churnDuring: [], throttle: null, databaseFaults: [],
				apiFaults: [{ kind: 'status 502 (HTML page) on any', rule: { kind: 'status', status: 502, share: 1, times: 100 } }],
			};
			const faults = armFaults(world, { requests: 100, windowMs: 2000, mode: '429' }, plan, emptyChurn());
			const fired: string[] = [];
			faults.at({ atRequest: 1 }, () => fired.push('before'));
			const first = await fetch(`${sim.baseUrl}/segments?i=${sim.instance}&apitoken=${sim.token}`);
			expect(first.status).toBe(502);
			const outcome = faults.disarm();
			expect(outcome.apiFaultsFired).toEqual({ 'status 502 (HTML page) on any': 1 });
			expect(gateway.clearFaults).toHaveBeenCalled();
			faults.at({ atRequest: 1 }, () => fired.push('after'));
			const second = await fetch(`${sim.baseUrl}/segments?i=${sim.instance}&apitoken=${sim.token}`);
			expect(second.status).toBe(200);
			expect(fired).toEqual(['before']);
		} finally {
			await sim.close();
		}
	});
});
