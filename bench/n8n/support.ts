/**
 * Running a workflow in a real n8n for the benchmarks, the way it runs in production: `n8n start` with
 * the workflow active and its Schedule Trigger set to fire a few seconds after n8n is ready (a cron with
 * seconds, rewritten per run). Not `n8n execute`: that command prints the whole run as JSON when it ends,
 * which for a workflow carrying 10,000 leads would add its own memory to the figure.
 *
 * Per run: import the workflow with the fire time, activate it, start n8n, sample the main process's
 * VmRSS every 100 ms, take idle as the last sample before the trigger fires and peak as the largest
 * after it, wait for the execution to finish, stop n8n, read the execution row and the size of its
 * stored data (execution_data.data, as n8n serialises it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { installPackageTarball } from '../../test/e2e/support/installPackage';
import { N8nInstance, type CredentialImport, type ExecutionRow, type WorkflowImport } from '../../test/e2e/support/n8nInstance';
import { type N8nMajor } from '../../test/e2e/support/paths';
import { runCommand, sleep } from '../../test/e2e/support/processes';
import { round } from '../support';

export const packageName = 'n8n-nodes-sprinthub-sync';

/** The committed workflows (bench/n8n/*.json) name this host, instance and segment; a run puts its own in. */
const committedBaseUrl = 'https://sprinthub-api-master.sprinthub.app';
const committedInstance = 'acme';
const committedSegment = '4242';

export function readBenchWorkflow(file: string): WorkflowImport {
	return JSON.parse(fs.readFileSync(path.join(__dirname, file), 'utf8')) as WorkflowImport;
}

interface WorkflowNode {
	name: string;
	type: string;
	parameters: Record<string, unknown>;
}

/** The workflow pointed at this run's simulator and segment, with node parameters changed where asked. */
export function adaptWorkflow(
	workflow: WorkflowImport,
	target: { baseUrl: string; instance: string; segmentId: number },
	edit: (node: WorkflowNode) => void = () => undefined,
): WorkflowImport {
	const text = JSON.stringify(workflow)
		.split(committedBaseUrl)
		.join(target.baseUrl)
		.replace(new RegExp(`/leadsfromtype/segment/${committedSegment}`, 'g'), `/leadsfromtype/segment/${target.segmentId}`)
		.replace(/"name":"i","value":"acme"/g, `"name":"i","value":${JSON.stringify(target.instance)}`);
	const copy = JSON.parse(text) as WorkflowImport;
	for (const node of copy.nodes as WorkflowNode[]) {
		const segment = node.parameters.segment as { value?: string } | undefined;
		if (segment?.value === committedSegment) segment.value = String(target.segmentId);
		edit(node);
	}
	if (committedInstance !== target.instance && text.includes(`"value":"${committedInstance}"`)) {
		throw new Error('the workflow still names the committed instance');
	}
	return copy;
}

/** The workflow with its Schedule Trigger firing once, at `at` (UTC, whole seconds). */
function firingAt(workflow: WorkflowImport, at: Date): WorkflowImport {
	const copy = JSON.parse(JSON.stringify(workflow)) as WorkflowImport;
	const triggers = (copy.nodes as WorkflowNode[]).filter((node) => node.type === 'n8n-nodes-base.scheduleTrigger');
	if (triggers.length !== 1) throw new Error(`expected one Schedule Trigger in ${workflow.id}, found ${triggers.length}`);
	const expression = `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} ${at.getUTCDate()} ${at.getUTCMonth() + 1} *`;
	triggers[0].parameters = { rule: { interval: [{ field: 'cronExpression', expression }] } };
	return copy;
}

/** A fresh n8n user folder with the packed package installed (as n8n does) and the credentials imported. */
export async function preparedN8n(major: N8nMajor, tarball: string, credentials: CredentialImport[]): Promise<N8nInstance> {
	const instance = await N8nInstance.create({ major });
	const installed = await installPackageTarball(instance.userFolder, tarball);
	if (installed.name !== packageName) throw new Error(`installed ${installed.name}, expected ${packageName}`);
	await instance.importCredentials(credentials);
	return instance;
}

export interface ScheduledRun {
	execution: ExecutionRow;
	/** Trigger fire to execution stop, from n8n's own timestamps. */
	wallMs: number;
	/** n8n main process: the last VmRSS sample before the trigger fired, the largest after it, in MB. */
	idleRssMb: number;
	peakRssMb: number;
	/** The main process's VmHWM at the end (includes start-up, so it is an upper bound, not the figure). */
	hwmMb: number;
	rssSamples: number;
	/** Size of execution_data.data in bytes (n8n's serialised run: every node's output items). */
	executionDataBytes: number;
	/** The error n8n recorded, if the run failed. */
	error: string | null;
	/** Output items of each node, from the stored run data (small outputs only: see maxItemsKept). */
	outputs: Record<string, Array<Record<string, unknown>>>;
	readyMs: number;
}

function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
	try {
		const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
		const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
		return match ? Number(match[1]) / 1024 : null;
	} catch {
		return null;
	}
}

/**
 * Runs `workflow` once through its Schedule Trigger under `n8n start` and measures it. `leadMs` is how
 * long after the import the trigger fires: long enough for n8n to be ready and settle (1.x is ready in
 * 5-15 s here, 2.x in 11-25 s).
 */
export async function runScheduled(
	instance: N8nInstance,
	workflow: WorkflowImport,
	options: { leadMs: number; timeoutMs: number; maxItemsKept?: number },
): Promise<ScheduledRun> {
	const fireAt = new Date(Math.ceil((Date.now() + options.leadMs) / 1000) * 1000);
	await instance.importWorkflows([firingAt(workflow, fireAt)]);
	await instance.activate(workflow.id);
	const before = (await instance.executions(workflow.id)).map((row) => row.id);
	const { readyMs } = await instance.start({ timeoutMs: 120_000 });
	const pid = instance.mainPid;
	if (pid === null) throw new Error('n8n start gave no pid');
	// Readiness answers before the active workflows are activated; under load activation can take seconds.
	const activatedBy = Date.now() + 60_000;
	while (!instance.mainLog(400).includes(`(ID: ${workflow.id})`) && Date.now() < activatedBy) await sleep(250);
	if (Date.now() > fireAt.getTime() - 2000) {
		await instance.stop();
		throw new Error(`n8n was ready and its workflow active too late (ready after ${readyMs} ms) for the trigger at ${fireAt.toISOString()}; raise leadMs`);
	}

	let idle = 0;
	let peak = 0;
	let samples = 0;
	let sampling = true;
	let finished: ExecutionRow | undefined;
	const sampler = (async () => {
		while (sampling) {
			const rss = statusMb(pid, 'VmRSS');
			if (rss !== null) {
				if (Date.now() < fireAt.getTime()) idle = rss;
				else {
					peak = Math.max(peak, rss);
					samples++;
				}
			}
			await sleep(100);
		}
	})();
	try {
		const deadline = fireAt.getTime() + options.timeoutMs;
		while (!finished) {
			if (Date.now() > deadline) throw new Error(`the execution of ${workflow.id} did not finish in ${options.timeoutMs} ms\n${instance.mainLog(30)}`);
			await sleep(Date.now() < fireAt.getTime() ? 500 : 2000);
			if (Date.now() < fireAt.getTime()) continue;
			const rows = await instance.executions(workflow.id);
			if (Date.now() > fireAt.getTime() + 90_000 && !rows.some((row) => !before.includes(row.id))) {
				throw new Error(`the Schedule Trigger of ${workflow.id} did not fire at ${fireAt.toISOString()}\n${instance.mainLog(20)}`);
			}
			finished = rows.find((row) => !before.includes(row.id) && row.stoppedAt !== null && row.status !== 'running' && row.status !== 'new');
		}
	} finally {
		sampling = false;
		await sampler;
	}
	const hwm = statusMb(pid, 'VmHWM') ?? 0;
	await instance.stop();

	const summary = await summariseExecution(instance, finished.id, options.maxItemsKept ?? 20);
	return {
		execution: finished,
		wallMs: new Date(finished.stoppedAt!).getTime() - new Date(finished.startedAt!).getTime(),
		idleRssMb: round(idle, 1),
		peakRssMb: round(peak, 1),
		hwmMb: round(hwm, 1),
		rssSamples: samples,
		executionDataBytes: summary.bytes,
		error: summary.error,
		outputs: summary.outputs,
		readyMs,
	};
}

interface ExecutionSummary {
	bytes: number;
	error: string | null;
	outputs: Record<string, Array<Record<string, unknown>>>;
}

/**
 * Size, error and node outputs of a stored execution, worked out in a child process with the installed
 * n8n's sqlite3 and flatted: a baseline run stores tens of megabytes, which need not pass through here.
 */
async function summariseExecution(instance: N8nInstance, executionId: number, maxItems: number): Promise<ExecutionSummary> {
	const modules = path.join(instance.installation.dir, 'node_modules');
	const script = `
const sqlite3 = require(${JSON.stringify(path.join(modules, 'sqlite3'))});
const flatted = require(${JSON.stringify(path.join(modules, 'flatted'))});
const [file, id, maxItems] = JSON.parse(process.argv[1]);
const db = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (openError) => {
	if (openError) { console.error(openError.message); process.exit(2); }
	db.configure('busyTimeout', 5000);
	db.get('select data from execution_data where "executionId" = ?', [id], (error, row) => {
		if (error) { console.error(error.message); process.exit(3); }
		const text = row ? String(row.data) : '';
		const data = text ? flatted.parse(text) : null;
		const runData = (data && data.resultData && data.resultData.runData) || {};
		const outputs = {};
		let nodeError = null;
		for (const [node, runs] of Object.entries(runData)) {
			const items = (runs[0] && runs[0].data && runs[0].data.main && runs[0].data.main[0]) || [];
			outputs[node] = items.length <= maxItems ? items.map((item) => item.json) : [{ items: items.length }];
			if (!nodeError && runs[0] && runs[0].error) nodeError = runs[0].error.message + (runs[0].error.description ? ': ' + runs[0].error.description : '');
		}
		const runError = data && data.resultData && data.resultData.error;
		const failure = runError ? runError.message + (runError.description ? ': ' + runError.description : '') : nodeError;
		process.stdout.write(JSON.stringify({ bytes: Buffer.byteLength(text), error: failure || null, outputs }));
		db.close();
	});
});`;
	const result = await runCommand(instance.installation.nodeBin, ['--max-old-space-size=4096', '-e', script, JSON.stringify([instance.databasePath, executionId, maxItems])], {
		env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
		timeoutMs: 300_000,
	});
	if (result.code !== 0) throw new Error(`reading execution ${executionId} failed: ${result.stderr.trim()}`);
	return JSON.parse(result.stdout) as ExecutionSummary;
}
