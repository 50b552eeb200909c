/**
 * Proves the queue-mode helpers on a real n8n: Redis (a throw-away redis-server), Postgres as n8n's
 * database (a fresh database on the local server, dropped afterwards), one main and two workers, each
 * with its own user folder and the shared encryption key. A 10-second schedule must run on the workers.
 *   npx tsx test/e2e/queue.e2e.ts [--n8n 1|2|both]
 */
import { randomBytes } from 'node:crypto';

import { N8nInstance, type WorkflowImport } from './support/n8nInstance';
import type { N8nMajor } from './support/paths';
import { adminQuery, n8nPostgresEnv } from './support/queueCluster';
import { startRedis } from './support/redis';
import { startSmtpCapture } from './support/smtpCapture';

const workflowId = 'E2eQueueSched0001';

async function runOn(major: N8nMajor): Promise<string[]> {
	const failures: string[] = [];
	const database = `e2e_n8n_queue_${major}_${randomBytes(4).toString('hex')}`;
	await adminQuery(`create database ${database}`);
	const redis = await startRedis();
	const smtp = await startSmtpCapture();
	const runToken = randomBytes(4).toString('hex');
	const sharedEnv = {
		...redis.n8nEnv(),
		...n8nPostgresEnv(database),
		OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS: 'true',
	};
	const main = await N8nInstance.create({ major, env: sharedEnv });
	const workers = [await N8nInstance.create({ major, env: sharedEnv }), await N8nInstance.create({ major, env: sharedEnv })];
	const started = Date.now();
	const seconds = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
	try {
		await main.importCredentials([
			{ id: 'E2eQueueSmtp0001', name: 'E2E SMTP', type: 'smtp', data: { host: '127.0.0.1', port: smtp.port, secure: false, disableStartTls: true } },
		]);
		const workflow: WorkflowImport = {
			id: workflowId,
			name: 'E2E queue: schedule',
			active: false,
			settings: { executionOrder: 'v1' },
			nodes: [
				{ id: 'q1', name: 'Every 10 seconds', type: 'n8n-nodes-base.scheduleTrigger', typeVersion: 1.2, position: [0, 0], parameters: { rule: { interval: [{ field: 'seconds', secondsInterval: 10 }] } } },
				{
					id: 'q2', name: 'Email', type: 'n8n-nodes-base.emailSend', typeVersion: 2.1, position: [220, 0],
					parameters: { fromEmail: 'n8n@example.test', toEmail: 'ops@example.test', subject: `Queue ${runToken}`, emailFormat: 'text', text: '={{ $execution.id }}', options: { appendAttribution: false } },
					credentials: { smtp: { id: 'E2eQueueSmtp0001', name: 'E2E SMTP' } },
				},
			],
			connections: { 'Every 10 seconds': { main: [[{ node: 'Email', type: 'main', index: 0 }]] } },
		};
		await main.importWorkflows([workflow]);
		await main.activate(workflowId);
		console.log(`  n8n ${major}: imported and activated on Postgres (${seconds()})`);
		await main.start();
		console.log(`  n8n ${major}: main ready (${seconds()})`);
		for (const worker of workers) await worker.start({ command: 'worker' });
		console.log(`  n8n ${major}: two workers ready (${seconds()})`);
		const rows = await main.waitForExecutions(workflowId, (executions) => executions.filter((row) => row.status === 'success').length >= 2, 60_000);
		console.log(`  n8n ${major}: ${rows.length} scheduled execution(s) (${seconds()})`);
		const mails = await smtp.waitForMessages(2, 10_000);
		if (!mails.every((mail) => mail.subject === `Queue ${runToken}`)) failures.push(`n8n ${major}: wrong mail subject`);
		const workerLogs = workers.map((worker) => worker.mainLog(400));
		const ranOnWorkers = rows
			.filter((row) => row.status === 'success')
			.every((row) => workerLogs.some((log) => new RegExp(`Worker finished execution ${row.id}\\b`).test(log)));
		if (!ranOnWorkers) failures.push(`n8n ${major}: executions not found in worker logs\n${workerLogs.join('\n---\n')}`);
		if (!rows.every((row) => row.mode === 'trigger')) failures.push(`n8n ${major}: unexpected modes ${JSON.stringify(rows)}`);
	} catch (error) {
		failures.push(`n8n ${major}: ${error instanceof Error ? error.stack : String(error)}\n--- main ---\n${main.mainLog(30)}`);
	} finally {
		for (const worker of workers) await worker.dispose();
		await main.dispose();
		const leftovers = [main, ...workers].flatMap((instance) => instance.leftoverProcesses());
		if (leftovers.length > 0) failures.push(`n8n ${major}: processes left running: ${leftovers.join(' ')}`);
		await redis.stop();
		await smtp.close();
		await adminQuery(`drop database if exists ${database} with (force)`);
		console.log(`  n8n ${major}: stopped and cleaned up (${seconds()})`);
	}
	return failures;
}

async function main(): Promise<void> {
	const flag = process.argv.indexOf('--n8n');
	const which = flag === -1 ? '2' : process.argv[flag + 1];
	const majors: N8nMajor[] = which === '1' ? [1] : which === '2' ? [2] : which === 'both' ? [1, 2] : [];
	if (majors.length === 0) throw new Error(`--n8n must be 1, 2 or both, not ${which}`);
	let failed = 0;
	for (const major of majors) {
		const failures = await runOn(major);
		for (const failure of failures) console.log(`  FAIL ${failure}`);
		failed += failures.length > 0 ? 1 : 0;
	}
	console.log(`${majors.length - failed} passed, ${failed} failed`);
	process.exitCode = failed === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
	console.error(error);
	console.log('0 passed, 1 failed');
	process.exitCode = 1;
});
