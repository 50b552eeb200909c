/**
 * The soak's queue-worker variant (`npm run soak -- --queue-workers`): the same seeded rounds, but the
 * syncs run in real n8n queue mode (test/e2e/support/queueCluster.ts: one main, two workers, Redis,
 * Postgres as n8n's database, the packed package installed as n8n does) from the bundled sync workflow,
 * whose Schedule Trigger fires every 2 s and whose Sync Due takes at most 2 segments per execution.
 *
 * A round: the churn before it, then the planned segments are made due (`sync_run_segment_now`, as a
 * user would) while the round's faults are armed; each planned kill SIGKILLs the worker whose execution
 * holds the lease of that process's segment at that point (the whole process group: n8n and its task
 * runner, as a crashed container), or a worker holding another soak segment if that one holds none
 * (when none does, at the round's next SprintHub request), and starts it again. The round ends when every planned segment has a finished run logged since the round
 * began, holds no lease and is not due any more; a killed worker's run ends when its lease expires and
 * the next execution takes the segment over and resumes from its checkpoint.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { budgetAccount } from '../../engine';
import { buildAndPackPackage } from '../e2e/support/installPackage';
import { sleep } from '../e2e/support/processes';
import { createQueueCluster, type QueueCluster } from '../e2e/support/queueCluster';
import type { RateLimit } from '../support/simulator';
import type { SyncWorld } from '../support/world';
import { applyChurn, type ChurnTally, type IdealCalls } from './ideal';
import type { RoundPlan } from './plan';
import { tally } from './report';
import { armFaults, type RoundOutcome } from './round';

/**
 * The soak's segments' lease (`lease_seconds`, default 300): how long a killed worker's segment stays
 * blocked before the next execution takes it over. Above two of the run's 20 s heartbeats, so a live run
 * keeps its lease through one failed beat (a database fault) on a loaded machine.
 */
export const QUEUE_LEASE_SECONDS = 45;
/**
 * Failures in a row before a segment goes to `error` (default 5), after which scheduled runs leave it
 * alone until a person resumes it. Every kill is a failure (the takeover closes the dead run as failed),
 * so the soak raises it: its question is whether the data stays right, not the alerting policy.
 */
export const QUEUE_MAX_CONSECUTIVE_FAILURES = 1000;
const SCHEDULE_SECONDS = 2;
const MAX_SEGMENTS = 2;

export interface QueueSoakContext {
	world: SyncWorld;
	cluster: QueueCluster;
	serverLimit: RateLimit;
	ideal: IdealCalls;
	churn: ChurnTally;
	/** A round whose segments are not all synced and released after this long counts as hung. */
	roundTimeoutMs: number;
	/** Worker restarts under way (a round waits for them before it ends). */
	restarts: Set<Promise<void>>;
	figures: QueueFigures;
}

export interface QueueFigures {
	workerRestarts: number;
	/** Kill points that found no run to kill before their round ended (none held a soak segment's lease). */
	killsWithoutRun: number;
	/** Kills of the worker holding the planned process's own segment, and of one holding another. */
	killsOfHolder: { own: number; other: number };
	/** Slowest worker start (ms), a figure for the report. */
	slowestRestartMs: number;
}

/** The node names its lease holder `n8n:<execution id>:<pid>` (nodes/SprintHubSegmentSync/transport). */
function holderPid(owner: string | null): number | null {
	const match = /^n8n:[^:]+:(\d+)$/.exec(owner ?? '');
	return match ? Number(match[1]) : null;
}

/**
 * Registers the segments (not due: the rounds make them due), sets the account's rate in SQL, starts n8n
 * main + `workers` workers with the package and the sync workflow active.
 */
export async function startQueueSoak(
	world: SyncWorld,
	segmentIds: number[],
	options: { tarball?: string; workers: number; ratePerMinute: number; log: (line: string) => void },
): Promise<{ cluster: QueueCluster; dispose(): Promise<void> }> {
	const packDir = fs.mkdtempSync(path.join(os.tmpdir(), 'soak-queue-pack-'));
	let cluster: QueueCluster | null = null;
	const dispose = async () => {
		await cluster?.dispose();
		fs.rmSync(packDir, { recursive: true, force: true });
	};
	try {
		const started = Date.now();
		const tarball = options.tarball ? path.resolve(options.tarball) : await buildAndPackPackage(packDir);
		options.log(`queue workers: package ${options.tarball ? 'given' : 'built and packed'} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
		for (const segmentId of segmentIds) {
			await world.stack.query(`select sync_add_segment($1, $2, p_max_consecutive_failures => $3, p_start_at => now() + interval '1 day')`, [
				segmentId,
				`Soak ${segmentId}`,
				QUEUE_MAX_CONSECUTIVE_FAILURES,
			]);
		}
		await world.stack.query('update sync_segments_control set lease_seconds = $1 where segment_id = any($2::bigint[])', [QUEUE_LEASE_SECONDS, segmentIds]);
		const account = budgetAccount(world.sim.baseUrl, world.sim.instance);
		await world.stack.query('select sync_set_account_rate($1, $2, $3, $4)', [account.key, account.baseUrl, account.instance, options.ratePerMinute]);
		cluster = await createQueueCluster({
			major: 1,
			stack: world.stack,
			sim: world.sim,
			workers: options.workers,
			scheduleSeconds: SCHEDULE_SECONDS,
			// The account's rate (the node's own default, 80 a minute, would only lower it); patience as the CLI soak's.
			syncDueOptions: { maxSegments: MAX_SEGMENTS, requestsPerMinute: options.ratePerMinute, patienceMinutes: 0.5, databasePatienceSeconds: 30 },
		});
		await cluster.install(tarball);
		const { readyMs } = await cluster.main.start();
		options.log(`queue workers: n8n main + ${options.workers} workers ready (main in ${(readyMs / 1000).toFixed(0)} s, ${((Date.now() - started) / 1000).toFixed(0)} s in all)`);
		return { cluster, dispose };
	} catch (error) {
		await dispose();
		throw error;
	}
}

type ControlRow = { segment_id: string; lease_owner: string | null; lease_run_id: string | null; due: boolean };
type LogRow = { id: string; segment_id: string; status: string; error_class: string | null; message: string | null };

async function maxLogId(world: SyncWorld): Promise<number> {
	const [{ id }] = await world.stack.query<{ id: string | null }>('select max(id) as id from sync_segments_logs');
	return Number(id ?? 0);
}

/**
 * SIGKILLs the worker holding `segmentId`'s lease, or else one holding another soak segment's, and starts
 * it again in the background. Returns which it was, or null when no worker held a soak segment.
 */
async function killHolder(context: QueueSoakContext, segmentId: number): Promise<'own' | 'other' | null> {
	const { cluster, world } = context;
	const held = await world.stack.query<ControlRow>('select segment_id, lease_owner, lease_run_id, false as due from sync_segments_control where lease_run_id is not null');
	// The workers' processes now: a killed worker's lease outlives it, and must not point at its restart.
	const current = cluster.workers.map((worker) => (worker.running ? new Set(worker.leftoverProcesses()) : new Set<number>()));
	const holderOf = (row: ControlRow) => current.findIndex((pids) => pids.has(holderPid(row.lease_owner) ?? -1));
	const own = held.filter((row) => Number(row.segment_id) === segmentId).map(holderOf).find((index) => index >= 0);
	const other = held.map(holderOf).find((index) => index >= 0);
	const index = own ?? other;
	// Checked again with no await before the kill: another kill point may have taken this worker meanwhile.
	if (index === undefined || !cluster.workers[index].running) return null;
	await cluster.workers[index].kill();
	context.figures.workerRestarts++;
	const restart = (async () => {
		// Restarting may fail on a loaded machine: try again rather than leave the cluster a worker short.
		for (let attempt = 1; ; attempt++) {
			try {
				const { readyMs } = await cluster.startWorker(index);
				context.figures.slowestRestartMs = Math.max(context.figures.slowestRestartMs, readyMs);
				return;
			} catch (error) {
				if (attempt >= 3) throw error;
				await cluster.workers[index].stop();
				await sleep(1000);
			}
		}
	})();
	context.restarts.add(restart);
	void restart.finally(() => context.restarts.delete(restart)).catch(() => undefined);
	return own !== undefined ? 'own' : 'other';
}

/**
 * One round in queue mode: churn, planned segments made due, faults and kills as planned; waits until
 * every planned segment has a finished run since the round began, holds no lease and is not due.
 */
export async function runQueueRound(context: QueueSoakContext, plan: RoundPlan): Promise<RoundOutcome> {
	const { world } = context;
	for (const churn of plan.churnBefore) applyChurn(world.sim, churn, context.churn);
	const segments = [...new Set(plan.processes)];
	for (const segmentId of segments) context.ideal.sync(segmentId);
	const firstLogId = (await maxLogId(world)) + 1;

	const faults = armFaults(world, context.serverLimit, plan, context.churn);
	const killPoints = { atRequest: 0, afterMs: 0 };
	const kills: Array<Promise<void>> = [];
	// A kill point that finds no run (the next execution has not claimed the segment yet, or its run
	// ended) waits for the round's next SprintHub request, which a running sync makes.
	let waitingKills = 0;
	const kill = (segmentId: number, point: 'atRequest' | 'afterMs'): void => {
		kills.push(
			killHolder(context, segmentId).then((which) => {
				if (which === null) {
					waitingKills++;
					faults.at({ atRequest: 1 }, () => {
						waitingKills--;
						kill(segmentId, point);
					});
					return;
				}
				context.figures.killsOfHolder[which]++;
				killPoints[point]++;
			}),
		);
	};
	for (const planned of plan.kills) faults.at(planned.at, () => kill(plan.processes[planned.process], 'atRequest' in planned.at ? 'atRequest' : 'afterMs'));
	for (const segmentId of segments) await world.stack.query('select sync_run_segment_now($1)', [segmentId]);

	const started = Date.now();
	let hung = false;
	for (;;) {
		const control = await world.stack.query<ControlRow>(
			'select segment_id, lease_owner, lease_run_id, next_execution <= now() as due from sync_segments_control where segment_id = any($1::bigint[])',
			[segments],
		);
		const finished = await world.stack.query<{ segment_id: string }>(
			"select distinct segment_id from sync_segments_logs where id >= $1 and status <> 'running' and segment_id = any($2::bigint[])",
			[firstLogId, segments],
		);
		const done = new Set(finished.map((row) => Number(row.segment_id)));
		if (segments.every((id) => done.has(id)) && control.every((row) => !row.lease_run_id && !row.due)) break;
		if (Date.now() - started > context.roundTimeoutMs) {
			hung = true;
			break;
		}
		await sleep(500);
	}
	const fired = faults.disarm();
	await Promise.allSettled(kills);
	context.figures.killsWithoutRun += waitingKills;
	// A round ends with both workers up, so the next one starts from the same cluster.
	while (context.restarts.size) await Promise.allSettled([...context.restarts]);
	const down = context.cluster.workers.findIndex((worker) => !worker.running);
	if (down >= 0) throw new Error(`worker ${down} could not be started again after its kill\n${context.cluster.workers[down].mainLog(30)}`);
	context.cluster.recordWorkerPids();

	const rows = await world.stack.query<LogRow>(
		"select id, segment_id, status, error_class, message from sync_segments_logs where id >= $1 and status <> 'running' order by id",
		[firstLogId],
	);
	return {
		exits: rows.map((row) => row.status),
		kills: killPoints.atRequest + killPoints.afterMs,
		killPoints,
		...fired,
		hung,
		// Failed runs other than those a takeover closed (a kill's), with their class: what went wrong.
		stderrSamples: rows
			.filter((row) => row.status === 'failed' && !/taken over by worker/.test(row.message ?? ''))
			.map((row) => `${row.segment_id} failed (${row.error_class ?? 'no class'}): ${(row.message ?? '').slice(0, 200).replace(/\s+/g, ' ')}`),
	};
}

/** The n8n executions of the sync workflow by status (the killed workers' ones included). */
export async function executionsByStatus(cluster: QueueCluster): Promise<Record<string, number>> {
	const counts: Record<string, number> = {};
	for (const row of await cluster.main.executions(cluster.syncWorkflow.id)) tally(counts, row.status);
	return counts;
}
