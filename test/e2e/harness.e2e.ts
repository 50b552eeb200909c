/**
 * Proves the end-to-end harness on a real n8n, with n8n's built-in Slack and Send Email nodes and a
 * generated probe package (the real package plugs in the same way):
 *   npx tsx test/e2e/harness.e2e.ts [--n8n 1|2|both]
 * Needs the installs from `bash test/e2e/install-n8n.sh`. Loopback only. Prints `N passed, N failed`.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { installPackageTarball, packPackage } from './support/installPackage';
import { N8nInstance, type WorkflowImport } from './support/n8nInstance';
import type { N8nMajor } from './support/paths';
import { probeCredentialType, probeNodeType, writeProbePackage } from './support/probePackage';
import { sleep } from './support/processes';
import { startSlackCapture } from './support/slackCapture';
import { startSmtpCapture } from './support/smtpCapture';

const alertWorkflowId = 'E2eHarnessAlert01';
const scheduleWorkflowId = 'E2eHarnessSched01';
const ids = { slack: 'E2eSlackCred0001', smtp: 'E2eSmtpCred00001', probe: 'E2eProbeCred0001' };

interface Outcome {
	name: string;
	ok: boolean;
	ms: number;
	error?: string;
}
const outcomes: Outcome[] = [];

async function check(name: string, body: () => Promise<void>): Promise<boolean> {
	const started = Date.now();
	try {
		await body();
		outcomes.push({ name, ok: true, ms: Date.now() - started });
		console.log(`  ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
		return true;
	} catch (error) {
		const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
		outcomes.push({ name, ok: false, ms: Date.now() - started, error: message });
		console.log(`  FAIL ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)\n${indent(message)}`);
		return false;
	}
}

function assert(condition: unknown, message: string): asserts condition {
	if (!condition) throw new Error(message);
}

function assertEqual<T>(actual: T, expected: T, what: string): void {
	if (JSON.stringify(actual) !== JSON.stringify(expected)) {
		throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
	}
}

function indent(text: string): string {
	return text
		.split('\n')
		.map((line) => `       ${line}`)
		.join('\n');
}

function node(name: string, type: string, typeVersion: number, position: [number, number], parameters: object, extra: object = {}) {
	const nodeId = `${name.toLowerCase().replace(/[^a-z0-9]/g, '')}-${randomBytes(4).toString('hex')}`;
	return { id: nodeId, name, type, typeVersion, position, parameters, ...extra };
}

function emailNode(name: string, subject: string, text: string, position: [number, number]) {
	return node(
		name,
		'n8n-nodes-base.emailSend',
		2.1,
		position,
		{
			fromEmail: 'n8n-e2e@example.test',
			toEmail: 'ops@example.test',
			subject,
			emailFormat: 'text',
			text,
			options: { appendAttribution: false },
		},
		{ credentials: { smtp: { id: ids.smtp, name: 'E2E SMTP' } } },
	);
}

/** Manual Trigger → probe node → Slack "Send a message" to #alerts → Send Email. */
function alertWorkflow(runToken: string): WorkflowImport {
	return {
		id: alertWorkflowId,
		name: 'E2E harness: alert',
		active: false,
		settings: { executionOrder: 'v1' },
		pinData: {},
		nodes: [
			node('Manual', 'n8n-nodes-base.manualTrigger', 1, [0, 0], {}),
			node('Probe', probeNodeType, 1, [220, 0], { label: runToken }, { credentials: { [probeCredentialType]: { id: ids.probe, name: 'E2E probe' } } }),
			node(
				'Slack',
				'n8n-nodes-base.slack',
				2.2,
				[440, 0],
				{
					resource: 'message',
					operation: 'post',
					select: 'channel',
					channelId: { __rl: true, mode: 'name', value: '#alerts' },
					// An expression, so the expression engine (legacy on 1.x) is exercised too.
					// Non-ASCII on purpose: alerts carry names like "Sincronização".
					text: `=Sync alert {{ $json.label }} — segment {{ 'Leads' + ' ' + (40 + 2) }} failed`,
					otherOptions: { includeLinkToWorkflow: false },
				},
				{ credentials: { slackApi: { id: ids.slack, name: 'E2E Slack' } } },
			),
			emailNode(
				'Email',
				`=Sync alert — {{ $('Probe').item.json.label }}`,
				`=Segmento Leads 42: falha na sincronização.\nRun: {{ $('Probe').item.json.label }}`,
				[660, 0],
			),
		],
		connections: {
			Manual: { main: [[{ node: 'Probe', type: 'main', index: 0 }]] },
			Probe: { main: [[{ node: 'Slack', type: 'main', index: 0 }]] },
			Slack: { main: [[{ node: 'Email', type: 'main', index: 0 }]] },
		},
	};
}

/** Schedule Trigger every 10 seconds → Send Email. */
function scheduleWorkflow(runToken: string): WorkflowImport {
	return {
		id: scheduleWorkflowId,
		name: 'E2E harness: schedule',
		active: false,
		settings: { executionOrder: 'v1', saveDataSuccessExecution: 'all' },
		pinData: {},
		nodes: [
			node('Every 10 seconds', 'n8n-nodes-base.scheduleTrigger', 1.2, [0, 0], { rule: { interval: [{ field: 'seconds', secondsInterval: 10 }] } }),
			emailNode('Email', `Scheduled ${runToken}`, 'The schedule fired.', [220, 0]),
		],
		connections: { 'Every 10 seconds': { main: [[{ node: 'Email', type: 'main', index: 0 }]] } },
	};
}

async function runOn(major: N8nMajor, packedProbe: string): Promise<void> {
	console.log(`\nn8n ${major}.x`);
	const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `e2e-harness-${major}-`));
	const runToken = `run-${randomBytes(4).toString('hex')}`;
	const smtp = await startSmtpCapture();
	const slack = await startSlackCapture(path.join(workDir, 'cert'));
	const instance = await N8nInstance.create({ major, env: slack.n8nProcessEnv() });
	const expectedNode = major === 1 ? process.version : 'v24.22.3';
	try {
		const prepared = await check(`n8n ${major}: install probe package, import credentials and workflows`, async () => {
			const installed = await installPackageTarball(instance.userFolder, packedProbe);
			assertEqual(installed.name, 'n8n-nodes-e2e-probe', 'installed package name');
			assert(!fs.existsSync(path.join(instance.userFolder, '.n8n', 'nodes', 'node_modules', 'n8n-workflow')), 'peer n8n-workflow must not be installed');
			await instance.importCredentials([
				{ id: ids.slack, name: 'E2E Slack', type: 'slackApi', data: { accessToken: 'xoxb-e2e-test-token' } },
				{
					id: ids.smtp,
					name: 'E2E SMTP',
					type: 'smtp',
					data: { user: 'e2e-user', password: 'e2e-password', host: '127.0.0.1', port: smtp.port, secure: false, disableStartTls: true },
				},
				{ id: ids.probe, name: 'E2E probe', type: probeCredentialType, data: { secret: 'probe-secret-123' } },
			]);
			await instance.importWorkflows([alertWorkflow(runToken), scheduleWorkflow(runToken)]);
			const stored = await instance.query<{ id: string }>('select id from workflow_entity order by id');
			assertEqual(stored.map((row) => row.id), [alertWorkflowId, scheduleWorkflowId].sort(), 'imported workflow ids');
		});
		if (!prepared) return;

		await check(`n8n ${major}: headless run sends one Slack message and one e-mail`, async () => {
			const result = await instance.execute(alertWorkflowId);
			assert(result.ok, `execute failed (exit ${result.command.code}): ${result.run?.data.resultData.error?.message ?? result.command.stdout.slice(-2000)}`);
			const probe = result.run!.data.resultData.runData.Probe[0].data!.main[0]![0].json;
			assertEqual(probe.label, runToken, 'probe node output label');
			assertEqual(probe.secretLength, 'probe-secret-123'.length, 'probe credential decrypted');
			assertEqual(probe.nodeVersion, expectedNode, 'Node version running the package node');
			assertEqual(probe.hasNodeOperationError, true, 'n8n-workflow resolvable from the installed package');
			const slackOutput = result.run!.data.resultData.runData.Slack[0].data!.main[0]![0].json;
			assertEqual(slackOutput.ok, true, 'Slack node output ok');

			assertEqual(slack.messages.length, 1, 'Slack messages');
			assertEqual(slack.calls.map((call) => call.method), ['chat.postMessage'], 'Slack API calls');
			const [message] = slack.messages;
			assertEqual(message.channel, '#alerts', 'Slack channel');
			assertEqual(message.text, `Sync alert ${runToken} — segment Leads 42 failed`, 'Slack text');
			assertEqual(message.token, 'xoxb-e2e-test-token', 'Slack token from the credential');

			assertEqual(smtp.messages.length, 1, 'e-mails');
			const [mail] = smtp.messages;
			assertEqual(mail.subject, `Sync alert — ${runToken}`, 'e-mail subject');
			assertEqual(mail.text, `Segmento Leads 42: falha na sincronização.\nRun: ${runToken}`, 'e-mail text');
			assertEqual(mail.envelopeTo, ['ops@example.test'], 'e-mail recipients');
			assertEqual(mail.envelopeFrom, 'n8n-e2e@example.test', 'e-mail sender');
			assertEqual(mail.authUser, 'e2e-user', 'SMTP AUTH user from the credential');

			const rows = await instance.executions(alertWorkflowId);
			assertEqual(rows.map((row) => [row.mode, row.status]), [['cli', 'success']], 'recorded executions');
			assertEqual(instance.leftoverProcesses(), [], 'processes left after execute');
		});

		await check(`n8n ${major}: a failing Slack call fails the run and sends no e-mail`, async () => {
			slack.clear();
			smtp.clear();
			slack.failPostMessageWith('channel_not_found');
			try {
				const result = await instance.execute(alertWorkflowId);
				assert(!result.ok, 'execute must fail when Slack answers ok:false');
				assert(result.command.code !== 0, 'execute must exit non-zero');
				assert(/channel_not_found/.test(JSON.stringify(result.run ?? result.command.stdout)), 'the Slack error is reported');
			} finally {
				slack.failPostMessageWith(null);
			}
			assertEqual(slack.calls.length, 1, 'Slack calls');
			assertEqual(smtp.messages.length, 0, 'e-mails after the Slack failure');
			const rows = await instance.executions(alertWorkflowId);
			assertEqual(rows.map((row) => row.status), ['success', 'error'], 'recorded execution statuses');
		});

		await check(`n8n ${major}: n8n start runs an activated 10-second schedule`, async () => {
			smtp.clear();
			await instance.activate(scheduleWorkflowId);
			const { readyMs } = await instance.start();
			console.log(`       n8n start ready in ${(readyMs / 1000).toFixed(1)} s`);
			const waitStarted = Date.now();
			const rows = await instance.waitForExecutions(
				scheduleWorkflowId,
				(executions) => executions.some((row) => row.mode === 'trigger' && row.status === 'success'),
				60_000,
			);
			console.log(`       first scheduled execution after ${((Date.now() - waitStarted) / 1000).toFixed(1)} s`);
			assert(rows.every((row) => row.mode === 'trigger'), `only trigger executions: ${JSON.stringify(rows)}`);
			const mails = await smtp.waitForMessages(1, 10_000);
			assert(mails.every((mail) => mail.subject === `Scheduled ${runToken}` && mail.text === 'The schedule fired.'), 'scheduled e-mail content');
			assert(mails.length >= rows.filter((row) => row.status === 'success').length, 'one e-mail per successful scheduled run');
			const health = await fetch(`${instance.baseUrl}/healthz`);
			assertEqual(health.status, 200, '/healthz status');
		});

		await check(`n8n ${major}: stop leaves nothing running`, async () => {
			await instance.stop();
			await sleep(200);
			assertEqual(instance.leftoverProcesses(), [], 'processes with this user folder');
			const stillListening = await fetch(`${instance.baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
				() => true,
				() => false,
			);
			assertEqual(stillListening, false, 'n8n port still answering');
		});
	} finally {
		await instance.dispose();
		await slack.close();
		await smtp.close();
		if (instance.leftoverProcesses().length > 0) console.log(`  leftover processes: ${instance.leftoverProcesses().join(' ')}`);
		fs.rmSync(workDir, { recursive: true, force: true });
	}
}

async function main(): Promise<void> {
	const flag = process.argv.indexOf('--n8n');
	const which = flag === -1 ? 'both' : process.argv[flag + 1];
	const majors: N8nMajor[] = which === '1' ? [1] : which === '2' ? [2] : which === 'both' ? [1, 2] : [];
	if (majors.length === 0) throw new Error(`--n8n must be 1, 2 or both, not ${which}`);
	const started = Date.now();
	const packDir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-probe-'));
	try {
		const packedProbe = await packPackage(writeProbePackage(path.join(packDir, 'package')), packDir);
		for (const major of majors) await runOn(major, packedProbe);
	} finally {
		fs.rmSync(packDir, { recursive: true, force: true });
	}
	const failed = outcomes.filter((outcome) => !outcome.ok).length;
	console.log(`\ntotal ${((Date.now() - started) / 1000).toFixed(1)} s`);
	console.log(`${outcomes.length - failed} passed, ${failed} failed`);
	process.exitCode = failed === 0 && outcomes.length > 0 ? 0 : 1;
}

main().catch((error: unknown) => {
	console.error(error);
	console.log(`0 passed, 1 failed`);
	process.exitCode = 1;
});
