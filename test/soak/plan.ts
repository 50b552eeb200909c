/**
 * The soak's seeded schedule: everything a round does (which segments run, who is killed and when,
 * which faults and churn) is drawn from one Random before the round starts, so a seed names the same
 * schedule every time. What the processes do with it (their interleaving) still depends on timing.
 */
import type { Endpoint, FaultRule } from '../support/simulator';
import { Random } from '../support/simulator/random';

export type ChurnOp =
	| { op: 'join'; segmentId: number; count: number; newLeads: boolean }
	| { op: 'leave'; segmentId: number; count: number }
	| { op: 'change'; segmentId: number; count: number }
	| { op: 'remove'; segmentId: number; count: number };

/** A point in a round: after the n-th SprintHub request from the round's start, or after ms of wall time. */
export type RoundPoint = { atRequest: number } | { afterMs: number };

export type DatabaseFaultKind = '503' | 'drop' | 'loseAnswer' | 'hang';

export interface ApiFaultPlan {
	/** A label for the report: 'status 502 (HTML)', 'truncate', … */
	kind: string;
	rule: FaultRule;
}

export interface ThrottlePlan {
	mode: '401' | '429';
	startMs: number;
	durationMs: number;
	/** Calls the server accepts per 2 s window during the burst. */
	requests: number;
}

export interface DatabaseFaultPlan {
	kind: DatabaseFaultKind;
	startMs: number;
	times: number;
	delayMs?: number;
}

export interface RoundPlan {
	round: number;
	/** One CLI process per entry; a segment listed twice is two processes started for the same segment. */
	processes: number[];
	kills: Array<{ process: number; at: RoundPoint }>;
	churnBefore: ChurnOp[];
	churnDuring: Array<{ at: RoundPoint; churn: ChurnOp }>;
	apiFaults: ApiFaultPlan[];
	throttle: ThrottlePlan | null;
	databaseFaults: DatabaseFaultPlan[];
}

const API_ENDPOINTS: Array<Endpoint | undefined> = ['segmentLeads', 'leadDetail', undefined];

function churnOp(random: Random, segmentId: number): ChurnOp {
	const roll = random.next();
	if (roll < 0.3) return { op: 'join', segmentId, count: random.int(1, 5), newLeads: random.chance(0.5) };
	if (roll < 0.55) return { op: 'leave', segmentId, count: random.int(1, 3) };
	if (roll < 0.85) return { op: 'change', segmentId, count: random.int(1, 6) };
	return { op: 'remove', segmentId, count: 1 };
}

function roundPoint(random: Random): RoundPoint {
	return random.chance(0.5) ? { atRequest: random.int(1, 80) } : { afterMs: random.int(200, 8000) };
}

function apiFault(random: Random): ApiFaultPlan {
	const endpoint = random.pick(API_ENDPOINTS);
	const base = { endpoint, share: 0.05 + random.next() * 0.25, times: random.int(1, 8) };
	const where = endpoint ?? 'any';
	switch (random.int(0, 5)) {
		case 0: {
			const status = random.pick([500, 502, 503, 504]);
			return { kind: `status ${status} (HTML page) on ${where}`, rule: { kind: 'status', status, ...base } };
		}
		case 1:
			return { kind: `truncated JSON on ${where}`, rule: { kind: 'truncate', ...base } };
		case 2:
			return { kind: `wrong shape on ${where}`, rule: { kind: 'wrongShape', ...base } };
		case 3:
			return { kind: `connection reset on ${where}`, rule: { kind: 'drop', ...base } };
		default:
			return { kind: `slow answer on ${where}`, rule: { kind: 'delay', delayMs: random.int(500, 4000), ...base } };
	}
}

export function planRound(random: Random, round: number, segmentIds: readonly number[]): RoundPlan {
	const synced = segmentIds.filter(() => random.chance(0.7));
	if (synced.length === 0) synced.push(random.pick(segmentIds));
	const processes = [...synced];
	if (random.chance(0.25)) processes.push(random.pick(synced));

	const kills: RoundPlan['kills'] = [];
	processes.forEach((_, index) => {
		if (random.chance(0.3)) kills.push({ process: index, at: roundPoint(random) });
	});

	const churnBefore: ChurnOp[] = [];
	for (const segmentId of segmentIds) if (random.chance(0.5)) churnBefore.push(churnOp(random, segmentId));
	const churnDuring: RoundPlan['churnDuring'] = [];
	if (random.chance(0.5)) churnDuring.push({ at: roundPoint(random), churn: churnOp(random, random.pick(segmentIds)) });

	const apiFaults: ApiFaultPlan[] = [];
	const apiFaultCount = random.chance(0.6) ? random.int(1, 3) : 0;
	for (let i = 0; i < apiFaultCount; i++) apiFaults.push(apiFault(random));

	const throttle: ThrottlePlan | null = random.chance(0.3)
		? { mode: random.chance(0.5) ? '401' : '429', startMs: random.int(0, 2500), durationMs: random.int(1000, 6000), requests: random.int(2, 10) }
		: null;

	const databaseFaults: DatabaseFaultPlan[] = [];
	const databaseFaultCount = random.chance(0.5) ? random.int(1, 2) : 0;
	for (let i = 0; i < databaseFaultCount; i++) {
		const kind = random.pick<DatabaseFaultKind>(['503', 'drop', 'loseAnswer', 'hang']);
		databaseFaults.push({
			kind,
			startMs: random.int(0, 3000),
			times: kind === '503' ? random.int(1, 4) : kind === 'hang' ? 1 : random.int(1, 2),
			delayMs: kind === 'hang' ? random.int(3000, 12_000) : undefined,
		});
	}
	return { round, processes, kills, churnBefore, churnDuring, apiFaults, throttle, databaseFaults };
}
