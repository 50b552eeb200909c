/**
 * One soak round: churn, then real CLI processes (`sprinthub-sync sync <id>`) for the planned
 * segments while the planned faults, throttling, database faults, mid-round churn and SIGKILLs
 * happen; waits for every process to end and takes every fault away again.
 */
import type { SyncWorld } from '../support/world';
import { startCli, type CliProcess } from '../support/cliProcesses';
import type { RateLimit } from '../support/simulator';
import { applyChurn, type ChurnTally, type IdealCalls } from './ideal';
import type { RoundPlan, RoundPoint } from './plan';

export interface SoakContext {
	world: SyncWorld;
	bundle: string;
	env: NodeJS.ProcessEnv;
	workDir: string;
	/** The server's everyday limit, restored after a throttling burst. */
	serverLimit: RateLimit;
	cliFlags: string[];
	ideal: IdealCalls;
	churn: ChurnTally;
	/** A process still running after this long is killed and the round counts as hung. */
	roundTimeoutMs: number;
	live: Set<CliProcess>;
}

export interface RoundOutcome {
	/** How each process ended ('exit 0', 'SIGKILL'); for n8n workers, the status of each run the round logged. */
	exits: string[];
	kills: number;
	killPoints: { atRequest: number; afterMs: number };
	apiFaultsFired: Record<string, number>;
	throttledCalls: number;
	databaseFaults: string[];
	/** Database requests the gateway answered with a fault (503, dropped, answer lost). */
	databaseFaulted: number;
	hung: boolean;
	stderrSamples: string[];
}

function exitLabel(code: number | null, signal: NodeJS.Signals | null): string {
	return signal ? signal : `exit ${code}`;
}

/** What a round's faults did, once they are taken away. */
export interface FaultOutcome {
	apiFaultsFired: Record<string, number>;
	throttledCalls: number;
	databaseFaults: string[];
	databaseFaulted: number;
}

export interface ArmedFaults {
	/** Runs `action` at a point of the round (the n-th SprintHub request from now, or after ms); nothing once disarmed. */
	at(point: RoundPoint, action: () => void): void;
	/** Cancels what has not happened yet, takes every fault away, restores the server's limit. */
	disarm(): FaultOutcome;
}

/**
 * Arms a round's API faults, throttling burst, database faults and mid-round churn (the churn before
 * the round is the caller's): the same for CLI processes and for n8n queue-mode workers.
 */
export function armFaults(world: SyncWorld, serverLimit: RateLimit, plan: RoundPlan, churnTally: ChurnTally): ArmedFaults {
	const { sim } = world;
	const cancels: Array<() => void> = [];
	let disarmed = false;
	const at = (point: RoundPoint, action: () => void): void => {
		if (disarmed) return;
		if ('atRequest' in point) cancels.push(sim.schedule({ atRequest: point.atRequest }, action));
		else {
			const timer = setTimeout(action, point.afterMs);
			cancels.push(() => clearTimeout(timer));
		}
	};
	const later = (ms: number, action: () => void): void => at({ afterMs: ms }, action);

	const throttledBefore = sim.counters.throttled;
	const faultedBefore = world.stack.gateway.requests.filter((entry) => entry.faulted).length;
	const faultHandles = plan.apiFaults.map((fault) => ({ kind: fault.kind, handle: sim.faults.add(fault.rule) }));
	if (plan.throttle) {
		const { mode, requests, startMs, durationMs } = plan.throttle;
		later(startMs, () => sim.setRateLimit({ requests, windowMs: 2000, mode }));
		later(startMs + durationMs, () => sim.setRateLimit(serverLimit));
	}
	const databaseFaults: string[] = [];
	for (const fault of plan.databaseFaults) {
		later(fault.startMs, () => {
			databaseFaults.push(fault.kind);
			const path = /^\/rest\/v1\/rpc\//;
			if (fault.kind === '503') world.stack.gateway.addFault({ path, times: fault.times, status: 503, body: '{"message":"upstream unavailable"}' });
			else if (fault.kind === 'drop') world.stack.gateway.addFault({ path, times: fault.times, drop: true });
			else if (fault.kind === 'loseAnswer') world.stack.gateway.addFault({ path, times: fault.times, loseAnswer: true });
			else world.stack.gateway.addFault({ path, times: fault.times, delayMs: fault.delayMs });
		});
	}
	for (const { at: point, churn } of plan.churnDuring) at(point, () => applyChurn(sim, churn, churnTally));

	return {
		at,
		disarm() {
			disarmed = true;
			for (const cancel of cancels) cancel();
			sim.faults.clear();
			world.stack.gateway.clearFaults();
			sim.setRateLimit(serverLimit);
			const apiFaultsFired: Record<string, number> = {};
			for (const { kind, handle } of faultHandles) apiFaultsFired[kind] = (apiFaultsFired[kind] ?? 0) + handle.fired;
			return {
				apiFaultsFired,
				throttledCalls: sim.counters.throttled - throttledBefore,
				databaseFaults,
				databaseFaulted: world.stack.gateway.requests.filter((entry) => entry.faulted).length - faultedBefore,
			};
		},
	};
}

export async function runRound(context: SoakContext, plan: RoundPlan): Promise<RoundOutcome> {
	const { world } = context;
	for (const churn of plan.churnBefore) applyChurn(world.sim, churn, context.churn);
	for (const segmentId of new Set(plan.processes)) context.ideal.sync(segmentId);
	for (let i = 0; i < plan.processes.length; i++) context.ideal.process();

	const faults = armFaults(world, context.serverLimit, plan, context.churn);
	const processes = plan.processes.map((segmentId) => {
		const cli = startCli(context.bundle, ['sync', String(segmentId), ...context.cliFlags], context.env, context.workDir);
		context.live.add(cli);
		void cli.done.then(() => context.live.delete(cli));
		return cli;
	});
	// Which point killed each process; a kill counts only when the process did die of it (one that
	// was already exiting may still end with its own code).
	const killedAt = new Map<number, 'atRequest' | 'afterMs'>();
	for (const kill of plan.kills) {
		faults.at(kill.at, () => {
			const { child } = processes[kill.process];
			if (child.exitCode !== null || child.signalCode !== null) return;
			child.kill('SIGKILL');
			killedAt.set(kill.process, 'atRequest' in kill.at ? 'atRequest' : 'afterMs');
		});
	}

	let hung = false;
	const watchdog = setTimeout(() => {
		hung = true;
		for (const { child } of processes) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
	}, context.roundTimeoutMs);
	const runs = await Promise.all(processes.map((cli) => cli.done));
	clearTimeout(watchdog);
	const killPoints = { atRequest: 0, afterMs: 0 };
	killedAt.forEach((point, index) => runs[index].signal === 'SIGKILL' && killPoints[point]++);
	const kills = killPoints.atRequest + killPoints.afterMs;

	return {
		exits: runs.map((run) => exitLabel(run.code, run.signal)),
		kills,
		killPoints,
		...faults.disarm(),
		hung,
		stderrSamples: runs
			.filter((run) => run.code !== 0 && run.code !== null && run.code !== 3)
			.map((run) => `exit ${run.code}: ${(run.stderr.trim() || `(no stderr) stdout: ${run.stdout.trim()}`).slice(0, 300).replace(/\s+/g, ' ')}`),
	};
}
