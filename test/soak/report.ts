/** The soak's report: what happened, the figures, every invariant with its result. */
import type { BudgetFigures, InvariantResult } from './invariants';

export interface SoakFigures {
	seed: number;
	rounds: number;
	segments: number;
	processes: number;
	duplicateProcesses: number;
	kills: { total: number; atRequest: number; afterMs: number };
	exits: Record<string, number>;
	apiFaults: Record<string, number>;
	throttleBursts: Record<string, number>;
	throttledCalls: number;
	databaseFaults: Record<string, number>;
	databaseFaulted: number;
	churn: { joined: number; left: number; changed: number; deleted: number };
	runsByStatus: Record<string, number>;
	calls: { total: number; ideal: number; factor: number; allowed: number };
	budget: BudgetFigures & { ratePerMinute: number };
	wallSeconds: number;
	invariants: InvariantResult[];
	/** The queue-worker variant's own figures (absent for CLI processes). */
	queue?: {
		workers: number;
		leaseSeconds: number;
		workerRestarts: number;
		killsWithoutRun: number;
		killsOfHolder: { own: number; other: number };
		slowestRestartMs: number;
		/** n8n executions of the sync workflow by status. */
		executions: Record<string, number>;
	};
}

export function tally(into: Record<string, number>, key: string, by = 1): void {
	into[key] = (into[key] ?? 0) + by;
}

const list = (counts: Record<string, number>): string =>
	Object.keys(counts).length
		? Object.entries(counts)
				.sort(([a], [b]) => a.localeCompare(b))
				.map(([key, value]) => `${key} ${value}`)
				.join(', ')
		: 'none';

export function printReport(figures: SoakFigures, repeat: string): void {
	const out = (line = ''): boolean => process.stdout.write(`${line}\n`);
	const faultsFired = Object.values(figures.apiFaults).reduce((sum, value) => sum + value, 0);
	out();
	const { queue } = figures;
	out(`== soak report (seed ${figures.seed}${queue ? ', n8n queue-mode workers' : ''})`);
	if (queue) {
		out(
			`rounds: ${figures.rounds} + 1 quiet round, ${figures.segments} segments, ${figures.processes} planned syncs (${figures.duplicateProcesses} doubles, made due once); ` +
				`n8n 1.x main + ${queue.workers} workers, Sync Due every 2 s, at most 2 segments an execution, lease ${queue.leaseSeconds} s`,
		);
		out(
			`worker kills (SIGKILL to a worker holding a soak segment's lease, then restarted): ${figures.kills.total} (${figures.kills.atRequest} at a SprintHub request, ${figures.kills.afterMs} at a wall-clock point; ` +
				`${queue.killsOfHolder.own} the planned segment's holder, ${queue.killsOfHolder.other} another segment's); ${queue.killsWithoutRun} kill points found no run before their round ended; slowest worker restart ${(queue.slowestRestartMs / 1000).toFixed(0)} s`,
		);
		out(`runs logged in the rounds: ${list(figures.exits)}`);
		out(`n8n executions of the sync workflow: ${list(queue.executions)}`);
	} else {
		out(`rounds: ${figures.rounds} + 1 quiet round, ${figures.segments} segments, ${figures.processes} CLI processes (${figures.duplicateProcesses} started for a segment another process was syncing)`);
		out(`kills (SIGKILL delivered): ${figures.kills.total} (${figures.kills.atRequest} at a SprintHub request, ${figures.kills.afterMs} at a wall-clock point)`);
		out(`process exits: ${list(figures.exits)}`);
	}
	out(`API faults fired: ${faultsFired} (${list(figures.apiFaults)})`);
	out(`throttling bursts: ${list(figures.throttleBursts)}; throttled calls ${figures.throttledCalls}`);
	out(`database faults armed: ${list(figures.databaseFaults)}; database requests the gateway faulted (503, dropped, answer lost): ${figures.databaseFaulted}`);
	out(`churn: joined ${figures.churn.joined}, left ${figures.churn.left}, changed ${figures.churn.changed}, deleted ${figures.churn.deleted}`);
	out(`runs by status: ${list(figures.runsByStatus)}`);
	out(`SprintHub calls: ${figures.calls.total} vs ideal ${figures.calls.ideal} (× ${figures.calls.factor.toFixed(2)}; allowed × ${figures.calls.allowed})`);
	out(
		`combined rate: max ${figures.budget.maxPerMinute} calls in any minute vs account budget ${figures.budget.ratePerMinute}/min; ` +
			figures.budget.windows.map((window) => `${window.seconds} s window max ${window.maxCalls} (bound ${window.bound})`).join(', '),
	);
	out(`wall time: ${figures.wallSeconds.toFixed(0)} s`);
	out('invariants:');
	for (const invariant of figures.invariants) out(`  ${invariant.ok ? 'PASS' : 'FAIL'}  ${invariant.name} — ${invariant.detail}`);
	const failed = figures.invariants.filter((invariant) => !invariant.ok).length;
	if (failed) out(`FAILING SEED ${figures.seed}: repeat with ${repeat}`);
	out(`${figures.invariants.length - failed} passed, ${failed} failed`);
}
