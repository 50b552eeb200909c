/**
 * The real package in n8n queue mode, set up as queueSync.ts and the soak's queue-worker variant both
 * need it: a fresh Postgres database for n8n, a throw-away Redis, Slack and SMTP captures, one main and
 * N workers (each its own user folder with the packed package installed as n8n does, the same
 * encryption key), the credentials for a given stack and simulator, and the bundled sync workflow with
 * its Schedule Trigger every few seconds. Nothing is started until `install()`; `dispose()` stops and
 * removes everything, the database too.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Client } from 'pg';

import type { Simulator } from '../../support/simulator';
import type { Stack } from '../../support/stack';
import { installPackageTarball } from './installPackage';
import { N8nInstance, type WorkflowImport } from './n8nInstance';
import { repoRoot, type N8nMajor } from './paths';
import { startRedis, type TestRedis } from './redis';
import { startSlackCapture, type SlackCapture } from './slackCapture';
import { startSmtpCapture, type SmtpCapture } from './smtpCapture';

const adminUrl = process.env.E2E_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const credentialNames = { sprintHub: 'SprintHub account', supabase: 'Supabase account', slack: 'Slack account', smtp: 'SMTP account' };
const credentialIds = { sprintHub: 'E2eQSprintHubCred', supabase: 'E2eQSupabaseCred1', slack: 'E2eQSlackCred0001', smtp: 'E2eQSmtpCred00001' };

export async function adminQuery(sql: string): Promise<void> {
	const client = new Client({ connectionString: adminUrl });
	await client.connect();
	try {
		await client.query(sql);
	} finally {
		await client.end();
	}
}

interface WorkflowNode {
	name: string;
	type: string;
	parameters: Record<string, unknown>;
}

/** n8n's settings for a database `database` on the admin server (queue mode needs Postgres, not SQLite). */
export function n8nPostgresEnv(database: string): Record<string, string> {
	const admin = new URL(adminUrl);
	return {
		DB_TYPE: 'postgresdb',
		DB_POSTGRESDB_HOST: admin.hostname,
		DB_POSTGRESDB_PORT: admin.port || '5432',
		DB_POSTGRESDB_DATABASE: database,
		DB_POSTGRESDB_USER: decodeURIComponent(admin.username),
		DB_POSTGRESDB_PASSWORD: decodeURIComponent(admin.password),
	};
}

export function readWorkflow(file: string): WorkflowImport {
	return JSON.parse(fs.readFileSync(path.join(repoRoot, 'workflows', file), 'utf8')) as WorkflowImport;
}

/**
 * The bundled sync workflow with only these changes: the Schedule Trigger fires every `scheduleSeconds`,
 * and Sync Due gets `syncDueOptions` on top of its own (e.g. Max Segments, so the due segments spread over
 * several executions that run at the same time).
 */
export function queueModeCopy(workflow: WorkflowImport, scheduleSeconds: number, syncDueOptions: Record<string, unknown>): WorkflowImport {
	const copy = JSON.parse(JSON.stringify(workflow)) as WorkflowImport;
	const nodes = copy.nodes as WorkflowNode[];
	const triggers = nodes.filter((node) => node.type === 'n8n-nodes-base.scheduleTrigger');
	if (triggers.length !== 1) throw new Error(`schedule triggers in the sync workflow: expected 1, got ${triggers.length}`);
	triggers[0].parameters = { rule: { interval: [{ field: 'seconds', secondsInterval: scheduleSeconds }] } };
	const syncDue = nodes.filter((node) => node.type === 'n8n-nodes-sprinthub-sync.sprintHubSegmentSync' && node.parameters.operation === 'syncDue');
	if (syncDue.length !== 1) throw new Error(`Sync Due nodes in the sync workflow: expected 1, got ${syncDue.length}`);
	syncDue[0].parameters.options = { ...(syncDue[0].parameters.options as Record<string, unknown>), ...syncDueOptions };
	return copy;
}

export interface QueueClusterOptions {
	major: N8nMajor;
	stack: Stack;
	sim: Simulator;
	workers: number;
	scheduleSeconds: number;
	syncDueOptions: Record<string, unknown>;
}

export interface QueueCluster {
	main: N8nInstance;
	workers: N8nInstance[];
	/** Pids of each worker's processes (its n8n process and task runner), by worker index, over its restarts. */
	workerPids: Array<Set<number>>;
	smtp: SmtpCapture;
	slack: SlackCapture;
	redis: TestRedis;
	/** The bundled sync workflow as imported (its id is the bundled one's). */
	syncWorkflow: WorkflowImport;
	/**
	 * Installs the tarball into main and every worker, imports the credentials and the workflows (error
	 * alerts + the sync workflow's queue-mode copy), activates the sync workflow and starts the workers.
	 * Main is not started: starting it starts the schedule.
	 */
	install(tarball: string): Promise<void>;
	/** Starts worker `index` again (after a stop or a kill) and records its new pids. */
	startWorker(index: number): Promise<{ readyMs: number }>;
	/** Adds the pids of every worker's running processes to `workerPids`. */
	recordWorkerPids(): void;
	/** The worker (index) whose process has this pid, or -1. */
	workerOf(pid: number): number;
	dispose(): Promise<void>;
}

export async function createQueueCluster(options: QueueClusterOptions): Promise<QueueCluster> {
	const { major, stack, sim } = options;
	const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `e2e-queue-cluster-${major}-`));
	const database = `e2e_n8n_queue_${major}_${process.pid}_${Date.now().toString(36)}`;
	await adminQuery(`create database ${database}`);
	const [smtp, slack, redis] = await Promise.all([startSmtpCapture(), startSlackCapture(path.join(workDir, 'cert')), startRedis()]);
	const env = { ...slack.n8nProcessEnv(), ...redis.n8nEnv(), ...n8nPostgresEnv(database) };
	const main = await N8nInstance.create({ major, env });
	const workers: N8nInstance[] = [];
	for (let i = 0; i < options.workers; i++) workers.push(await N8nInstance.create({ major, env }));
	const workerPids = workers.map(() => new Set<number>());
	const bundledSync = readWorkflow('sprinthub-segment-sync.json');
	const syncWorkflow = queueModeCopy(bundledSync, options.scheduleSeconds, options.syncDueOptions);
	const recordWorkerPids = () => workers.forEach((worker, index) => worker.leftoverProcesses().forEach((pid) => workerPids[index].add(pid)));
	return {
		main,
		workers,
		workerPids,
		smtp,
		slack,
		redis,
		syncWorkflow,
		async install(tarball) {
			for (const instance of [main, ...workers]) {
				const installed = await installPackageTarball(instance.userFolder, tarball);
				if (installed.name !== 'n8n-nodes-sprinthub-sync') throw new Error(`installed package: ${installed.name}`);
			}
			await main.importCredentials([
				{ id: credentialIds.sprintHub, name: credentialNames.sprintHub, type: 'sprintHubApi', data: { baseUrl: sim.baseUrl, instance: sim.instance, apiToken: sim.token } },
				{ id: credentialIds.supabase, name: credentialNames.supabase, type: 'supabaseApi', data: { host: stack.supabaseUrl, serviceRole: stack.serviceRoleKey } },
				{ id: credentialIds.slack, name: credentialNames.slack, type: 'slackApi', data: { accessToken: 'xoxb-e2e-queue-token' } },
				{ id: credentialIds.smtp, name: credentialNames.smtp, type: 'smtp', data: { host: '127.0.0.1', port: smtp.port, secure: false, disableStartTls: true } },
			]);
			await main.importWorkflows([readWorkflow('sprinthub-sync-error-alerts.json'), syncWorkflow]);
			await main.activate(syncWorkflow.id);
			for (const worker of workers) await worker.start({ command: 'worker' });
			recordWorkerPids();
		},
		async startWorker(index) {
			const started = await workers[index].start({ command: 'worker' });
			recordWorkerPids();
			return started;
		},
		recordWorkerPids,
		workerOf: (pid) => workerPids.findIndex((pids) => pids.has(pid)),
		async dispose() {
			for (const instance of [main, ...workers]) await instance.dispose();
			await Promise.allSettled([slack.close(), smtp.close(), redis.stop()]);
			await adminQuery(`drop database if exists ${database} with (force)`).catch(() => undefined);
			fs.rmSync(workDir, { recursive: true, force: true });
		},
	};
}
