/**
 * The real package in n8n queue mode: one main and two workers (each its own user folder with the packed
 * package installed as n8n does, the same encryption key), Redis (a throw-away redis-server), Postgres as
 * n8n's database (a fresh database, dropped afterwards), the real database stack and the SprintHub
 * simulator. Eight segments are due at once; the bundled sync workflow runs from its Schedule Trigger
 * (every 2 seconds, Max Segments 2 — its only changes), so several executions sync on both workers at the
 * same time. Each round must sync every segment exactly once for its due time, on more than one worker.
 * Round 1: activate (start main), wait, deactivate (stop main), check. Round 2: segments changed in the
 * simulator and made due again, and the account's rate set low in SQL (sync_set_account_rate) so that the
 * workers want more calls than the budget allows; while deactivated nothing syncs; reactivate, wait,
 * deactivate, check. In both rounds the calls the simulator saw from both workers together stay within
 * the account budget over any window, and none is throttled.
 * Used by run.ts (`runQueueSync`) and by queue-sync.e2e.ts on its own.
 */
import { budgetAccount } from '../../engine';
import { budgetWindows } from '../support/budgetWindows';
import { startSimulator, type RequestLogEntry, type Simulator } from '../support/simulator';
import { startStack, type Stack } from '../support/stack';
import type { ExecutionRow, N8nInstance } from './support/n8nInstance';
import { type N8nMajor } from './support/paths';
import { sleep } from './support/processes';
import { createQueueCluster, type QueueCluster } from './support/queueCluster';

/** run.ts's `check`: runs one named check, records and prints its outcome. */
export type CheckFn = (name: string, body: () => Promise<void>) => Promise<boolean>;

/** Eight segments of a few hundred leads, all due at once. */
const segments = [180, 240, 300, 360, 220, 280, 340, 400].map((size, index) => ({ id: 301 + index, name: `Queue segment ${index + 1}`, size }));
const maxSegments = 2;
const scheduleSeconds = 2;
/** Each SprintHub call takes this long, so one execution lasts seconds and the next ones start meanwhile. */
const simulatorLatencyMs = 1500;
/** Round 1: no rate set for the account, so every run uses the node's own (80 a minute). */
const defaultRatePerMinute = 80;
/** Round 2: the account's rate, set in SQL; far below what 8 segments on two workers would send. */
const lowAccountRatePerMinute = 40;
/**
 * The stated tolerance (README): the bucket's capacity plus the rate over T + 1 s (unused tokens expire
 * 1 s after their grant). One more second for the way from the database's grant through PostgREST and a
 * worker to the simulator's log, which a machine with 2 busy cores stretches.
 */
const budgetSlackMs = 2_000;

function assert(condition: unknown, message: string): asserts condition {
	if (!condition) throw new Error(message);
}

function assertEqual<T>(actual: T, expected: T, what: string): void {
	if (JSON.stringify(actual) !== JSON.stringify(expected)) {
		throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
	}
}

type LogRow = {
	id: number;
	segment_id: number;
	status: string;
	trigger: string;
	worker: string | null;
	message: string | null;
	execution_time: Date;
	finished_at: Date | null;
};

async function logRows(stack: Stack): Promise<LogRow[]> {
	const rows = await stack.query<Omit<LogRow, 'id' | 'segment_id'> & { id: string; segment_id: string }>(
		'select id, segment_id, status, trigger, worker, message, execution_time, finished_at from sync_segments_logs order by id',
	);
	return rows.map((row) => ({ ...row, id: Number(row.id), segment_id: Number(row.segment_id) }));
}

async function membersOf(stack: Stack, segmentId: number): Promise<number[]> {
	const rows = await stack.query<{ lead_id: string }>('select lead_id from sync_segment_leads where segment_id = $1 and left_at is null order by lead_id', [segmentId]);
	return rows.map((row) => Number(row.lead_id));
}

function truthOf(sim: Simulator, segmentId: number): number[] {
	return [...sim.truth.segmentMemberIds(segmentId)].sort((a, b) => a - b);
}

/** The node names its lease holder `n8n:<execution id>:<pid>` (transport/index.ts). */
function parseWorker(worker: string | null): { executionId: number; pid: number } | null {
	const match = /^n8n:(\d+):(\d+)$/.exec(worker ?? '');
	return match ? { executionId: Number(match[1]), pid: Number(match[2]) } : null;
}

const unfinished = (row: ExecutionRow) => !row.finished && ['new', 'running', 'waiting', 'unknown'].includes(row.status);

/** Waits until no execution of the workflow is unfinished and their count stayed the same for `quietMs`. */
async function waitForQuiet(main: N8nInstance, workflowId: string, timeoutMs: number, quietMs = 3000): Promise<ExecutionRow[]> {
	const deadline = Date.now() + timeoutMs;
	let last = '';
	let sameSince = Date.now();
	for (;;) {
		const rows = await main.executions(workflowId);
		const signature = JSON.stringify(rows.map((row) => [row.id, row.status]));
		if (signature !== last) {
			last = signature;
			sameSince = Date.now();
		}
		if (!rows.some(unfinished) && Date.now() - sameSince >= quietMs) return rows;
		if (Date.now() > deadline) throw new Error(`executions still running after ${timeoutMs} ms: ${JSON.stringify(rows.filter(unfinished))}`);
		await sleep(500);
	}
}

/** Waits until every segment has a finished log row after `afterLogId`; returns those rows. */
async function waitForRound(stack: Stack, afterLogId: number, timeoutMs: number): Promise<LogRow[]> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const rows = (await logRows(stack)).filter((row) => row.id > afterLogId);
		const done = new Set(rows.filter((row) => row.status !== 'running').map((row) => row.segment_id));
		if (segments.every((segment) => done.has(segment.id))) return rows;
		if (Date.now() > deadline) {
			throw new Error(`not every segment synced in ${timeoutMs} ms; log rows: ${JSON.stringify(rows.map((row) => [row.segment_id, row.status]))}`);
		}
		await sleep(500);
	}
}

/**
 * The checks of one round: one `success` row per segment with trigger schedule and nothing else
 * (no failed, running or taken-over rows), members equal the simulator, no lease left, the rows were
 * written by workers (not main), on both workers, by executions that overlapped in time, all of which
 * succeeded.
 */
async function checkRound(stack: Stack, sim: Simulator, cluster: QueueCluster, roundRows: LogRow[], executions: ExecutionRow[], label: string): Promise<string> {
	assertEqual(
		roundRows.map((row) => [row.segment_id, row.status, row.trigger]).sort((a, b) => Number(a[0]) - Number(b[0])),
		segments.map((segment) => [segment.id, 'success', 'schedule']),
		`${label}: sync_segments_logs rows (segment, status, trigger)`,
	);
	const takeovers = (await logRows(stack)).filter((row) => /taken over/i.test(row.message ?? ''));
	assertEqual(takeovers.map((row) => row.id), [], `${label}: log rows closed by a lease takeover`);
	for (const segment of segments) {
		const truth = truthOf(sim, segment.id);
		assert(truth.length > 0, `segment ${segment.id} has members in the simulator`);
		assertEqual(await membersOf(stack, segment.id), truth, `${label}: members of segment ${segment.id}`);
	}
	const control = await stack.query<{ segment_id: string; lease_run_id: string | null; last_status: string; due: boolean }>(
		'select segment_id, lease_run_id, last_status, next_execution <= now() as due from sync_segments_control order by segment_id',
	);
	assertEqual(
		control.map((row) => [Number(row.segment_id), row.lease_run_id, row.last_status, row.due]),
		segments.map((segment) => [segment.id, null, 'success', false]),
		`${label}: control rows (segment, lease, last status, due)`,
	);
	// Who ran what: the execution id and pid the node wrote as lease holder.
	const runs = roundRows.map((row) => ({ row, holder: parseWorker(row.worker) }));
	const unparsed = runs.filter((run) => !run.holder).map((run) => run.row.worker);
	assertEqual(unparsed, [], `${label}: worker names in the log rows`);
	const byWorker = runs.map((run) => cluster.workerOf(run.holder!.pid));
	assert(!byWorker.includes(-1), `${label}: every sync ran in a worker process (pids ${JSON.stringify(runs.map((run) => run.holder!.pid))}, workers ${JSON.stringify(cluster.workerPids.map((pids) => [...pids]))})`);
	const workersUsed = new Set(byWorker);
	assert(workersUsed.size >= 2, `${label}: syncs ran on ${workersUsed.size} worker(s), expected both`);
	const executionIds = [...new Set(runs.map((run) => run.holder!.executionId))].sort((a, b) => a - b);
	assert(executionIds.length >= Math.ceil(segments.length / maxSegments), `${label}: ${executionIds.length} executions synced, expected at least ${segments.length / maxSegments}`);
	const syncing = executions.filter((row) => executionIds.includes(row.id));
	assertEqual(syncing.map((row) => row.id), executionIds, `${label}: executions that synced, in execution_entity`);
	const perExecution = executionIds.map((id) => runs.filter((run) => run.holder!.executionId === id).length);
	assert(perExecution.every((count) => count <= maxSegments), `${label}: segments per execution ${JSON.stringify(perExecution)} exceed Max Segments ${maxSegments}`);
	// Two executions overlap when one starts before the other stops.
	const spans = syncing.map((row) => [Date.parse(row.startedAt ?? ''), Date.parse(row.stoppedAt ?? '')]);
	let overlaps = 0;
	for (let i = 0; i < spans.length; i++) for (let j = i + 1; j < spans.length; j++) if (spans[i][0] < spans[j][1] && spans[j][0] < spans[i][1]) overlaps++;
	assert(overlaps > 0, `${label}: the executions that synced never overlapped in time: ${JSON.stringify(syncing)}`);
	const bad = executions.filter((row) => row.mode !== 'trigger' || row.status !== 'success');
	assertEqual(bad, [], `${label}: executions that are not successful trigger runs`);
	return `${executions.length} executions (${executionIds.length} synced, max ${Math.max(...perExecution)} segments each, ${overlaps} overlapping pair(s)), segments per worker ${JSON.stringify([0, 1].map((index) => byWorker.filter((worker) => worker === index).length))}`;
}

/**
 * The calls both workers sent in a round, against the account budget at `perMinute`: within the
 * budget plus the tolerance over every window, none throttled. Returns a line for the timings.
 */
async function checkCombinedRate(stack: Stack, calls: readonly RequestLogEntry[], perMinute: number, label: string, overBudget = false): Promise<string> {
	const [{ capacity }] = await stack.query<{ capacity: string }>('select sync_internal.budget_capacity($1) as capacity', [perMinute]);
	const figures = budgetWindows(calls, { perMinute, capacity: Number(capacity), slackMs: budgetSlackMs });
	const { worst, inProbe } = figures;
	assertEqual(figures.throttled, 0, `${label}: throttled calls`);
	// The workload is larger than the budget lets through in the probe window: the budget set the pace.
	if (overBudget) assert(figures.calls > inProbe.allowed, `${label}: only ${figures.calls} calls, the budget allows ${inProbe.allowed.toFixed(1)} in ${inProbe.windowMs / 1000} s`);
	assert(
		worst.calls <= worst.allowed,
		`${label}: ${worst.calls} calls within ${(worst.spanMs / 1000).toFixed(1)} s, the budget of ${perMinute}/min allows ${worst.allowed.toFixed(1)} (capacity ${capacity} + rate over the span + ${budgetSlackMs / 1000} s)`,
	);
	const spanS = calls.length > 1 ? (Math.max(...calls.map((c) => c.startedAt)) - Math.min(...calls.map((c) => c.startedAt))) / 1000 : 0;
	return `${figures.calls} calls in ${spanS.toFixed(1)} s, at most ${inProbe.calls} in any ${inProbe.windowMs / 1000} s (budget ${perMinute}/min allows ${inProbe.allowed.toFixed(1)}), closest window ${worst.calls} of ${worst.allowed.toFixed(1)} allowed, 0 throttled`;
}

/**
 * Queue mode with the real package on one n8n version. Each step is a `check`, so run.ts counts them in
 * its `N passed, N failed` line.
 */
export async function runQueueSync(major: N8nMajor, tarball: string, check: CheckFn, timings: string[]): Promise<void> {
	const versionStarted = Date.now();
	const seconds = (ms: number) => (ms / 1000).toFixed(1);
	const [stack, sim] = await Promise.all([startStack(), startSimulator({ segments, latencyMs: simulatorLatencyMs })]);
	const cluster = await createQueueCluster({ major, stack, sim, workers: 2, scheduleSeconds, syncDueOptions: { maxSegments } });
	const { main, workers, smtp, slack, syncWorkflow: bundledSync, recordWorkerPids } = cluster;
	const name = (text: string) => `n8n ${major} queue mode: ${text}`;
	/** Deactivation in queue mode: the main process owns the schedule; stopping it stops the triggers. */
	const deactivate = async () => {
		await main.stop();
		return waitForQuiet(main, bundledSync.id, 120_000);
	};
	try {
		const ready = await check(name('main + two workers with the package, Postgres, Redis; 8 segments due'), async () => {
			// Registered as a user would, in SQL. No detail calls (enrichment none): the list pages carry the
			// leads, so the run stays within the node's default 80 requests per minute per process.
			for (const segment of segments) await stack.query(`select sync_add_segment($1, $2, p_enrichment_mode => 'none')`, [segment.id, segment.name]);
			await cluster.install(tarball);
			const due = await stack.query<{ count: string }>('select count(*) from sync_segments_control where next_execution <= now()');
			assertEqual(Number(due[0].count), segments.length, 'segments due');
		});
		if (!ready) return;

		let alertsAfterRound1: number | undefined;
		let roundStarted = Date.now();
		let round1: LogRow[] = [];
		let round1Calls: RequestLogEntry[] = [];
		const synced = await check(name('the schedule syncs all 8 due segments; deactivated, nothing is left running'), async () => {
			roundStarted = Date.now();
			const { readyMs } = await main.start();
			timings.push(`n8n ${major} queue mode: main ready in ${seconds(readyMs)} s`);
			round1 = await waitForRound(stack, 0, 180_000);
			timings.push(`n8n ${major} queue mode: round 1 synced 8 segments ${seconds(Date.now() - roundStarted)} s after main start`);
			recordWorkerPids();
			await deactivate();
			round1Calls = [...sim.requests];
			assertEqual((await logRows(stack)).filter((row) => row.status === 'running').length, 0, 'log rows still running');
			assertEqual(main.leftoverProcesses(), [], 'processes of the stopped main');
		});
		if (!synced) return;

		await check(name('round 1: each segment synced exactly once, by both workers, in overlapping executions'), async () => {
			const rows = await logRows(stack);
			const executions = await main.executions(bundledSync.id);
			alertsAfterRound1 = smtp.messages.length;
			const summary = await checkRound(stack, sim, cluster, rows, executions, 'round 1');
			timings.push(`n8n ${major} queue mode: round 1: ${summary}`);
		});

		await check(name(`round 1: both workers together stay within the account budget (${defaultRatePerMinute}/min, none set for the account)`), async () => {
			const summary = await checkCombinedRate(stack, round1Calls, defaultRatePerMinute, 'round 1');
			timings.push(`n8n ${major} queue mode: round 1 SprintHub calls: ${summary}`);
		});

		let round2Calls: RequestLogEntry[] = [];
		await check(name(`round 2: segments changed and due again sync exactly once more, with the account's rate set to ${lowAccountRatePerMinute}/min`), async () => {
			const lastLogId = Math.max(...(await logRows(stack)).map((row) => row.id));
			const account = budgetAccount(sim.baseUrl, sim.instance);
			await stack.query('select sync_set_account_rate($1, $2, $3, $4)', [account.key, account.baseUrl, account.instance, lowAccountRatePerMinute]);
			const firstCall = sim.requests.length;
			const executionsBefore = (await main.executions(bundledSync.id)).length;
			sim.mutate.join(segments[0].id, 5);
			sim.mutate.leave(segments[1].id, 3);
			sim.mutate.change({ segmentId: segments[2].id, count: 4 });
			sim.mutate.join(segments[7].id, 2, { newLeads: true });
			for (const segment of segments) await stack.query('select sync_run_segment_now($1)', [segment.id]);
			// Deactivated: due segments wait.
			await sleep(3 * scheduleSeconds * 1000);
			assertEqual((await logRows(stack)).filter((row) => row.id > lastLogId).length, 0, 'log rows written while deactivated');
			roundStarted = Date.now();
			await main.start();
			await waitForRound(stack, lastLogId, 180_000);
			timings.push(`n8n ${major} queue mode: round 2 synced 8 segments ${seconds(Date.now() - roundStarted)} s after main start`);
			recordWorkerPids();
			const executions = (await deactivate()).slice(executionsBefore);
			round2Calls = sim.requests.slice(firstCall);
			// Read after deactivation, so a late duplicate would be counted too.
			const round2 = (await logRows(stack)).filter((row) => row.id > lastLogId);
			const summary = await checkRound(stack, sim, cluster, round2, executions, 'round 2');
			const all = await logRows(stack);
			assertEqual(all.length, 2 * segments.length, 'log rows of both rounds');
			assert(round1.length === segments.length, 'round 1 rows');
			timings.push(`n8n ${major} queue mode: round 2: ${summary}`);
		});

		await check(name(`round 2: more calls than the budget allows at once, and both workers together stay within ${lowAccountRatePerMinute}/min`), async () => {
			const summary = await checkCombinedRate(stack, round2Calls, lowAccountRatePerMinute, 'round 2', true);
			timings.push(`n8n ${major} queue mode: round 2 SprintHub calls: ${summary}`);
		});

		await check(name('healthy segments raise no alert while other executions sync (Slack, e-mail)'), async () => {
			// Mails in order; the Slack node posts the same text, so its count must match.
			const subjects = smtp.messages.map((mail, index) => `${index < (alertsAfterRound1 ?? 0) ? 'round 1' : 'round 2'}: ${mail.subject}`);
			assertEqual(subjects, [], `alert e-mails (and ${slack.messages.length} Slack messages); the first one:\n${smtp.messages[0]?.text ?? ''}\n`);
			assertEqual(slack.messages.length, 0, 'Slack messages');
		});

		await check(name('stopping the workers leaves nothing running'), async () => {
			for (const worker of workers) await worker.stop();
			await sleep(200);
			assertEqual([main, ...workers].flatMap((instance) => instance.leftoverProcesses()), [], 'processes with an instance user folder');
			const leases = await stack.query('select segment_id from sync_segments_control where lease_run_id is not null');
			assertEqual(leases, [], 'leases held');
		});
	} finally {
		await cluster.dispose();
		await Promise.allSettled([stack.stop(), sim.close()]);
		timings.push(`n8n ${major} queue mode: ${seconds(Date.now() - versionStarted)} s`);
	}
}
