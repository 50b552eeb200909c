/**
 * The end-to-end suite of the real package in real n8n (`npm run test:e2e`):
 *   npx tsx test/e2e/run.ts [--n8n 1|2|both]
 * Builds and packs the package, installs the pinned n8n versions when missing (install-n8n.sh), and on
 * each version: installs the tarball as n8n does, imports credentials and the bundled workflows, runs
 * the sync headless and checks the database against the SprintHub simulator, makes SprintHub fail and
 * checks the Slack and e-mail alerts (once, then a recovery), lets the activated schedule sync by itself,
 * checks the lead webhook (webhook.ts: secrets, forged bodies, unknown ids, a burst, bad bodies), proves
 * nothing is left running, then uses the editor in a real browser (editorBrowser.ts: owner, credentials,
 * import, every node, list search, runs from the editor, console errors) and runs queue mode
 * (queueSync.ts: main + two workers, Redis, Postgres; 8 segments due at once). Loopback only.
 * Prints `N passed, N failed`; exits non-zero on any failure.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { openInChromium } from '../support/chromium';
import { startSimulator, type Simulator } from '../support/simulator';
import { startStack, type Stack } from '../support/stack';
import { runEditorBrowser } from './editorBrowser';
import { runQueueSync } from './queueSync';
import { webhookChecks, webhookCredential } from './webhook';
import { installPackageTarball, packPackage } from './support/installPackage';
import { assert, assertEqual, assertIncludes } from './support/asserts';
import { N8nInstance, type WorkflowImport } from './support/n8nInstance';
import { e2eCacheDir, n8nInstallation, pinnedVersions, repoRoot, type N8nMajor } from './support/paths';
import { runCommand, sleep, tail } from './support/processes';
import { startSlackCapture, type SlackCapture } from './support/slackCapture';
import { startSmtpCapture, type SmtpCapture } from './support/smtpCapture';

const packageName = 'n8n-nodes-sprinthub-sync';
const workflowFiles = {
	sync: 'sprinthub-segment-sync.json',
	alerts: 'sprinthub-sync-error-alerts.json',
	webhook: 'sprinthub-lead-webhook.json',
	dashboard: 'sprinthub-sync-dashboard.json',
} as const;
/** Credential names the bundled workflows refer to (the README tells users to create them). */
const credentialNames = {
	sprintHub: 'SprintHub account',
	supabase: 'Supabase account',
	slack: 'Slack account',
	smtp: 'SMTP account',
	dashboard: 'Dashboard header auth',
};
const credentialIds = {
	sprintHub: 'E2eSprintHubCred1',
	supabase: 'E2eSupabaseCred01',
	slack: 'E2eSlackCred00001',
	smtp: 'E2eSmtpCred000001',
	dashboard: 'E2eDashboardAuth1',
	webhook: 'E2eWebhookAuth001',
};
/** The dashboard's Header Auth credential: the header a user's proxy or browser extension adds. */
const dashboardHeader = { name: 'X-Dashboard-Key', value: `e2e-${randomUUID()}` };
const dashboardPath = 'sprinthub-sync-dashboard';
const segments = [
	{ id: 101, name: 'Hot leads', size: 12 },
	{ id: 102, name: 'Reativação', size: 8 },
];

interface Outcome {
	name: string;
	ok: boolean;
	ms: number;
}
const outcomes: Outcome[] = [];
const timings: string[] = [];

async function check(name: string, body: () => Promise<void>): Promise<boolean> {
	const started = Date.now();
	try {
		await body();
		outcomes.push({ name, ok: true, ms: Date.now() - started });
		console.log(`  ok   ${name} (${seconds(Date.now() - started)} s)`);
		return true;
	} catch (error) {
		const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
		outcomes.push({ name, ok: false, ms: Date.now() - started });
		console.log(`  FAIL ${name} (${seconds(Date.now() - started)} s)\n${indent(message)}`);
		return false;
	}
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);
const indent = (text: string) =>
	text
		.split('\n')
		.map((line) => `       ${line}`)
		.join('\n');

function readWorkflow(file: string): WorkflowImport {
	return JSON.parse(fs.readFileSync(path.join(repoRoot, 'workflows', file), 'utf8')) as WorkflowImport;
}

interface WorkflowNode {
	name: string;
	type: string;
	parameters: Record<string, unknown>;
	credentials?: Record<string, { id?: string | null; name: string }>;
}

/**
 * The e2e copy of the sync workflow: the bundled JSON with only the Schedule Trigger's rule shortened
 * to every 10 seconds, so the suite sees the schedule fire without waiting for 06:00.
 */
function withShortSchedule(workflow: WorkflowImport): WorkflowImport {
	const copy = JSON.parse(JSON.stringify(workflow)) as WorkflowImport;
	const triggers = (copy.nodes as WorkflowNode[]).filter((node) => node.type === 'n8n-nodes-base.scheduleTrigger');
	assertEqual(triggers.length, 1, 'schedule triggers in the sync workflow');
	triggers[0].parameters = { rule: { interval: [{ field: 'seconds', secondsInterval: 10 }] } };
	return copy;
}

/** Runs a command with the caller's environment; throws with the output's tail when it fails. */
async function run(command: string, args: string[], timeoutMs: number): Promise<string> {
	const result = await runCommand(command, args, { cwd: repoRoot, env: process.env, timeoutMs });
	if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code}\n${tail(result.stdout + result.stderr, 40)}`);
	return result.stdout;
}

/** Installs the pinned n8n versions that are not installed yet (install-n8n.sh reuses finished installs). */
async function ensureN8n(majors: N8nMajor[]): Promise<void> {
	const missing = majors.filter((major) => {
		try {
			n8nInstallation(major);
			return false;
		} catch {
			return true;
		}
	});
	if (missing.length === 0) return;
	const which = missing.length === 2 ? 'both' : String(missing[0]);
	console.log(`installing n8n ${which} (cold: about 8 minutes per version) ...`);
	const started = Date.now();
	await run('bash', [path.join(__dirname, 'install-n8n.sh'), which], 30 * 60_000);
	timings.push(`install n8n ${which}: ${seconds(Date.now() - started)} s`);
	for (const major of missing) n8nInstallation(major);
}

async function buildAndPack(outDir: string): Promise<string> {
	await run('npm', ['run', 'build'], 10 * 60_000);
	return packPackage(repoRoot, outDir);
}

async function checkTarball(tarball: string): Promise<void> {
	const listing = (await run('tar', ['-tzf', tarball], 60_000)).split('\n').filter(Boolean);
	for (const expected of [
		'package/dist/nodes/SprintHubSegmentSync/SprintHubSegmentSync.node.js',
		'package/dist/credentials/SprintHubApi.credentials.js',
		'package/README.md',
		'package/LICENSE',
		...Object.values(workflowFiles).map((file) => `package/workflows/${file}`),
	]) {
		assert(listing.includes(expected), `the tarball should contain ${expected}`);
	}
	assert(listing.some((file) => /^package\/supabase\/migrations\/\d+_.+\.sql$/.test(file)), 'the tarball should contain the migrations');
	assert(!listing.some((file) => file.startsWith('package/node_modules/') || file.startsWith('package/test/')), 'no node_modules or tests in the tarball');
	const manifest = JSON.parse(await run('tar', ['-xzOf', tarball, 'package/package.json'], 60_000)) as { dependencies?: Record<string, string> };
	assertEqual(Object.keys(manifest.dependencies ?? {}), [], 'runtime dependencies of the package');
}

interface World {
	stack: Stack;
	sim: Simulator;
	slack: SlackCapture;
	smtp: SmtpCapture;
	instance: N8nInstance;
}

async function logRows(stack: Stack) {
	return stack.query<{ id: string; segment_id: string; status: string; trigger: string; error_class: string | null; message: string | null }>(
		'select id, segment_id, status, trigger, error_class, message from sync_segments_logs order by id',
	);
}

async function membersOf(stack: Stack, segmentId: number): Promise<number[]> {
	const rows = await stack.query<{ lead_id: string }>(
		'select lead_id from sync_segment_leads where segment_id = $1 and left_at is null order by lead_id',
		[segmentId],
	);
	return rows.map((row) => Number(row.lead_id));
}

function truthOf(sim: Simulator, segmentId: number): number[] {
	return [...sim.truth.segmentMemberIds(segmentId)].sort((a, b) => a - b);
}

async function makeAllDue(stack: Stack): Promise<void> {
	for (const segment of segments) await stack.query('select sync_run_segment_now($1)', [segment.id]);
}

/** A headless run of the sync workflow from its Manual Trigger; the run itself must succeed. */
async function runSyncByHand(world: World, workflowId: string): Promise<void> {
	const result = await world.instance.execute(workflowId);
	assert(
		result.ok,
		`n8n execute failed (exit ${result.command.code}): ${result.run?.data.resultData.error?.message ?? tail(result.command.stdout + result.command.stderr, 40)}`,
	);
}

function alertText(world: World): { slack: string[]; mail: Array<{ subject: string; text: string }> } {
	return {
		slack: world.slack.messages.map((message) => message.text),
		mail: world.smtp.messages.map((mail) => ({ subject: mail.subject, text: mail.text })),
	};
}

async function runOn(major: N8nMajor, tarball: string): Promise<void> {
	const versionStarted = Date.now();
	console.log(`\nn8n ${major}.x (${major === 1 ? pinnedVersions.n8n1 : pinnedVersions.n8n2})`);
	const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `e2e-run-${major}-`));
	const [stack, sim, smtp, slack] = await Promise.all([
		startStack(),
		// Leads in no segment: the webhook checks need 60 that no sync has stored.
		startSimulator({ segments, extraLeads: 200 }),
		startSmtpCapture(),
		startSlackCapture(path.join(workDir, 'cert')),
	]);
	const instance = await N8nInstance.create({ major, env: slack.n8nProcessEnv() });
	const world: World = { stack, sim, slack, smtp, instance };
	const bundled = {
		sync: readWorkflow(workflowFiles.sync),
		alerts: readWorkflow(workflowFiles.alerts),
		webhook: readWorkflow(workflowFiles.webhook),
		dashboard: readWorkflow(workflowFiles.dashboard),
	};
	try {
		const prepared = await check(`n8n ${major}: install the package, import credentials and the bundled workflows`, async () => {
			const installed = await installPackageTarball(instance.userFolder, tarball);
			assertEqual(installed.name, packageName, 'installed package');
			// Registered as a user would, in SQL (README: Managing segments).
			for (const segment of segments) await stack.query('select sync_add_segment($1, $2)', [segment.id, segment.name]);
			await instance.importCredentials([
				{
					id: credentialIds.sprintHub,
					name: credentialNames.sprintHub,
					type: 'sprintHubApi',
					data: { baseUrl: sim.baseUrl, instance: sim.instance, apiToken: sim.token },
				},
				{ id: credentialIds.supabase, name: credentialNames.supabase, type: 'supabaseApi', data: { host: stack.supabaseUrl, serviceRole: stack.serviceRoleKey } },
				{ id: credentialIds.slack, name: credentialNames.slack, type: 'slackApi', data: { accessToken: 'xoxb-e2e-test-token' } },
				{
					id: credentialIds.smtp,
					name: credentialNames.smtp,
					type: 'smtp',
					data: { user: 'e2e-user', password: 'e2e-password', host: '127.0.0.1', port: smtp.port, secure: false, disableStartTls: true },
				},
				{ id: credentialIds.dashboard, name: credentialNames.dashboard, type: 'httpHeaderAuth', data: dashboardHeader },
				{ id: credentialIds.webhook, name: webhookCredential.name, type: 'httpHeaderAuth', data: webhookCredential.data },
			]);
			// As they are in the package (the alerts first: the others name it as their error workflow).
			await instance.importWorkflows([bundled.alerts, bundled.sync, bundled.webhook, bundled.dashboard]);
			const stored = await instance.query<{ id: string; nodes: string; settings: string | null }>('select id, nodes, settings from workflow_entity order by id');
			assertEqual(
				stored.map((row) => row.id),
				[bundled.alerts.id, bundled.webhook.id, bundled.sync.id, bundled.dashboard.id].sort(),
				'imported workflow ids',
			);
			// The name placeholders were resolved to the credentials of those names.
			const expectedIds: Record<string, string> = {
				[credentialNames.sprintHub]: credentialIds.sprintHub,
				[credentialNames.supabase]: credentialIds.supabase,
				[credentialNames.slack]: credentialIds.slack,
				[credentialNames.smtp]: credentialIds.smtp,
				[credentialNames.dashboard]: credentialIds.dashboard,
				[webhookCredential.name]: credentialIds.webhook,
			};
			// Each reference keeps the name the bundled JSON gives it (n8n binds a reference without an
			// id key to the first credential of its type: the webhook's Header Auth uses "id": null).
			const bundledNames = new Map<string, string>();
			for (const workflow of Object.values(bundled)) {
				for (const node of workflow.nodes as WorkflowNode[]) {
					for (const [type, reference] of Object.entries(node.credentials ?? {})) bundledNames.set(`${workflow.id}/${node.name}/${type}`, reference.name);
				}
			}
			for (const row of stored) {
				for (const node of JSON.parse(row.nodes) as WorkflowNode[]) {
					for (const [type, reference] of Object.entries(node.credentials ?? {})) {
						const what = `credential ${type} of node "${node.name}" in ${row.id}`;
						assertEqual(reference.name, bundledNames.get(`${row.id}/${node.name}/${type}`), `${what}: name`);
						assertEqual(reference.id, expectedIds[reference.name], `${what}: id`);
					}
				}
			}
			const syncSettings = JSON.parse(stored.find((row) => row.id === bundled.sync.id)!.settings ?? '{}') as { errorWorkflow?: string };
			assertEqual(syncSettings.errorWorkflow, bundled.alerts.id, 'error workflow of the sync workflow');
		});
		if (!prepared) return;

		await check(`n8n ${major}: a run by hand syncs every due segment and sends no alert`, async () => {
			await runSyncByHand(world, bundled.sync.id);
			for (const segment of segments) {
				const truth = truthOf(sim, segment.id);
				assert(truth.length > 0, `segment ${segment.id} has members in the simulator`);
				assertEqual(await membersOf(stack, segment.id), truth, `members of segment ${segment.id}`);
			}
			const memberIds = [...new Set(segments.flatMap((s) => truthOf(sim, s.id)))];
			const leads = await stack.query<{ count: string }>('select count(*) from leads where id = any($1::bigint[])', [memberIds]);
			assertEqual(Number(leads[0].count), memberIds.length, 'lead rows of the members');
			const logs = await logRows(stack);
			assertEqual(
				logs.map((row) => [Number(row.segment_id), row.status]).sort(),
				segments.map((s) => [s.id, 'success']).sort(),
				'sync_segments_logs rows (segment, status)',
			);
			assertEqual(alertText(world), { slack: [], mail: [] }, 'alerts after a good run');
			const executions = await instance.executions(bundled.sync.id);
			assertEqual(executions.map((row) => [row.mode, row.status]), [['cli', 'success']], 'executions of the sync workflow');
		});

		// SprintHub refuses the token (as when it is revoked): every call answers 401 "Token inválido".
		const revoked = sim.faults.add({ kind: 'status', status: 401, body: { msg: 'Token inválido' } });
		await check(`n8n ${major}: a failing SprintHub raises one Slack message and one e-mail per segment`, async () => {
			await makeAllDue(stack);
			await runSyncByHand(world, bundled.sync.id);
			assert(revoked.fired > 0, 'the simulator refused calls');
			const failed = (await logRows(stack)).slice(segments.length);
			assertEqual(failed.map((row) => [Number(row.segment_id), row.status]).sort(), segments.map((s) => [s.id, 'failed']).sort(), 'log rows of the failing run');
			const { slack: slackTexts, mail } = alertText(world);
			assertEqual(slackTexts.length, segments.length, 'Slack messages');
			assertEqual(mail.length, segments.length, 'e-mails');
			assertEqual(world.slack.messages.map((message) => message.channel), segments.map(() => '#alerts'), 'Slack channels');
			assertEqual(world.slack.messages.map((message) => message.token), segments.map(() => 'xoxb-e2e-test-token'), 'Slack token');
			for (const segment of segments) {
				const subject = mail.map((m) => m.subject).find((s) => s.includes(`${segment.name} (${segment.id})`));
				assert(subject, `an e-mail about segment ${segment.id}: ${JSON.stringify(mail.map((m) => m.subject))}`);
				assert(subject.startsWith('[SprintHub sync] Alert: '), `alert subject: ${subject}`);
				assertIncludes(subject, 'failing', 'alert subject');
				const text = mail.find((m) => m.subject === subject)!.text;
				for (const part of [
					`Needs attention: ${segment.name} (${segment.id}) is failing.`,
					`Segment: ${segment.name} (${segment.id})`,
					'Status: ',
					'last run failed',
					'Counts: ',
					'1 failed run(s) in a row',
					'Duration of the last run: ',
					'Success rate of the last ',
					'Error: ',
					'What to do: Check the SprintHub credential',
				]) {
					assertIncludes(text, part, `alert e-mail of segment ${segment.id}`);
				}
				assert(/Token|token|401/.test(text.split('\nError: ')[1] ?? ''), `the alert names the error: ${text}`);
				assert(!text.includes(sim.token), 'the alert must not show the SprintHub token');
				if (segment === segments[0]) console.log(indent(`alert e-mail:\n${subject}\n${text}`));
				const slackText = slackTexts.find((t) => t.includes(`${segment.name} (${segment.id})`));
				assert(slackText, `a Slack message about segment ${segment.id}`);
				assertEqual(slackText, `${subject}\n${text}`, `Slack text of segment ${segment.id}`);
			}
		});

		await check(`n8n ${major}: a second failing run does not alert again`, async () => {
			slack.clear();
			smtp.clear();
			await makeAllDue(stack);
			await runSyncByHand(world, bundled.sync.id);
			const failed = (await logRows(stack)).slice(2 * segments.length);
			assertEqual(failed.map((row) => [Number(row.segment_id), row.status]).sort(), segments.map((s) => [s.id, 'failed']).sort(), 'log rows of the second failing run');
			assertEqual(alertText(world), { slack: [], mail: [] }, 'alerts of the second failing run');
		});

		revoked.remove();
		await check(`n8n ${major}: a good run after the failures sends one recovery per segment`, async () => {
			await makeAllDue(stack);
			await runSyncByHand(world, bundled.sync.id);
			const { slack: slackTexts, mail } = alertText(world);
			assertEqual(slackTexts.length, segments.length, 'Slack recovery messages');
			assertEqual(mail.length, segments.length, 'recovery e-mails');
			for (const segment of segments) {
				const recovery = mail.find((m) => m.subject.includes(`${segment.name} (${segment.id})`));
				assert(recovery, `a recovery e-mail about segment ${segment.id}`);
				assert(recovery.subject.startsWith('[SprintHub sync] Recovered: '), `recovery subject: ${recovery.subject}`);
				assertIncludes(recovery.text, `Recovered: ${segment.name} (${segment.id}) runs again (it was failing).`, 'recovery e-mail');
				assertIncludes(recovery.text, 'What to do: Nothing', 'recovery e-mail');
				assertIncludes(recovery.text, 'Error: none', 'recovery e-mail');
				if (segment === segments[0]) console.log(indent(`recovery e-mail:\n${recovery.subject}\n${recovery.text}`));
				assertEqual(await membersOf(stack, segment.id), truthOf(sim, segment.id), `members of segment ${segment.id} after recovery`);
			}
		});

		await check(`n8n ${major}: n8n start runs the activated schedule, which syncs a due segment by itself`, async () => {
			slack.clear();
			smtp.clear();
			await instance.importWorkflows([withShortSchedule(bundled.sync)]);
			await instance.activate(bundled.sync.id);
			await instance.activate(bundled.webhook.id);
			await instance.activate(bundled.dashboard.id);
			// n8n 2.x runs only the published version of an error workflow; 1.x runs it as saved.
			if (major === 2) await instance.activate(bundled.alerts.id);
			const joined = sim.mutate.join(101, 3);
			await stack.query('select sync_run_segment_now($1)', [101]);
			const lastLogId = Number((await logRows(stack)).at(-1)!.id);
			const before = (await instance.executions(bundled.sync.id)).length;
			const { readyMs } = await instance.start();
			timings.push(`n8n ${major}: n8n start ready in ${seconds(readyMs)} s`);
			const deadline = Date.now() + 90_000;
			let scheduled: Awaited<ReturnType<typeof logRows>> = [];
			while (Date.now() < deadline) {
				scheduled = (await logRows(stack)).filter((row) => Number(row.id) > lastLogId && row.status !== 'running');
				if (scheduled.length > 0) break;
				await sleep(1000);
			}
			assertEqual(scheduled.map((row) => [Number(row.segment_id), row.status, row.trigger]), [[101, 'success', 'schedule']], 'log rows written by the schedule');
			const members = await membersOf(stack, 101);
			assertEqual(members, truthOf(sim, 101), 'members of segment 101 after the scheduled sync');
			assert(joined.every((id) => members.includes(id)), 'the leads that joined are members');
			const executions = await instance.waitForExecutions(
				bundled.sync.id,
				(rows) => rows.slice(before).some((row) => row.mode === 'trigger' && row.status === 'success'),
				30_000,
			);
			assert(executions.slice(before).every((row) => row.mode === 'trigger'), 'only trigger executions after start');
			assertEqual(alertText(world), { slack: [], mail: [] }, 'alerts of the scheduled runs');
		});

		await webhookChecks({ major, instance, stack, sim, workflowId: bundled.webhook.id, check, timings });

		await check(`n8n ${major}: the dashboard is refused without its header, and with it is a page that renders every segment in Chromium`, async () => {
			const url = `${instance.baseUrl}/webhook/${dashboardPath}`;
			const refused = await fetch(url, { signal: AbortSignal.timeout(30_000) });
			const refusedBody = await refused.text();
			assert(refused.status === 401 || refused.status === 403, `dashboard without the header: status ${refused.status}`);
			assert(!refusedBody.includes('<article'), 'no page without the header');
			const wrong = await fetch(url, { headers: { [dashboardHeader.name]: 'wrong' }, signal: AbortSignal.timeout(30_000) });
			assert(wrong.status === 401 || wrong.status === 403, `dashboard with a wrong header: status ${wrong.status}`);
			const started = Date.now();
			const response = await fetch(`${url}?days=7`, { headers: { [dashboardHeader.name]: dashboardHeader.value }, signal: AbortSignal.timeout(60_000) });
			const html = await response.text();
			timings.push(
				`n8n ${major}: dashboard page served in ${Date.now() - started} ms (${Math.round(html.length / 1024)} KB); refused with ${refused.status} without the header, ${wrong.status} with a wrong one`,
			);
			assertEqual(response.status, 200, 'dashboard status');
			assertIncludes(response.headers.get('content-type') ?? '', 'text/html', 'dashboard content type');
			for (const secret of [stack.serviceRoleKey, sim.token, dashboardHeader.value]) assert(!html.includes(secret), 'no secret in the page');
			const file = path.join(workDir, 'dashboard.html');
			fs.writeFileSync(file, html);
			const { dom, consoleLines } = await openInChromium(file);
			assertEqual(consoleLines, [], 'browser console lines');
			assertIncludes(dom, 'Last 7 days', 'dashboard window');
			for (const segment of segments) {
				assertIncludes(dom, `id="segment-${segment.id}" data-segment="${segment.id}"`, 'segment card');
				assertIncludes(dom, `${segment.name} (${segment.id})`, 'segment card title');
				const duration = new RegExp(`<svg class="chart" id="segment-${segment.id}-duration"[\\s\\S]*?data-series="Duration" data-points="[1-9]`);
				assert(duration.test(dom), `a duration series with points for segment ${segment.id}`);
			}
			assert(/<svg class="chart" id="calls-per-hour"[\s\S]*?data-series="Calls" data-points="[1-9]/.test(dom), 'calls-per-hour series with points');
			const screenshot = path.join(os.tmpdir(), `sprinthub-sync-dashboard-n8n${major}.png`);
			await openInChromium(file, { screenshot, width: 1280, height: 1600 });
			console.log(indent(`dashboard screenshot: ${screenshot}`));
		});

		await check(`n8n ${major}: a webhook run whose upsert fails runs the error workflow (Slack + e-mail)`, async () => {
			slack.clear();
			smtp.clear();
			// A lead SprintHub has and no sync stored: the webhook fetches it, then the write fails.
			const storedIds = new Set((await stack.query<{ id: string }>('select id::text from leads')).map((row) => Number(row.id)));
			const leadId = sim.truth.allLeadIds().reverse().find((id) => !storedIds.has(id))!;
			// Supabase answers 500 to the upsert (a database outage, as far as the node can tell).
			stack.gateway.addFault({ path: /\/rpc\/sync_upsert_leads$/, status: 500, body: JSON.stringify({ message: 'e2e: database unavailable' }), times: 1000 });
			try {
				const response = await fetch(`${instance.baseUrl}/webhook/sprinthub-lead`, {
					method: 'POST',
					headers: { 'content-type': 'application/json', [webhookCredential.data.name]: webhookCredential.data.value },
					body: JSON.stringify({ data: { lead: { id: leadId, email: 'lost@example.test' } } }),
					signal: AbortSignal.timeout(30_000),
				});
				assertEqual(response.status, 202, 'webhook status (answered before the upsert)');
				// The alerts say the webhook run failed (its execution is also kept, without the secret).
				await smtp.waitForMessages(1, 60_000);
				await slack.waitForMessages(1, 30_000);
			} finally {
				stack.gateway.clearFaults();
			}
			await sleep(1000);
			const { slack: slackTexts, mail } = alertText(world);
			assertEqual(mail.length, 1, 'error-workflow e-mails');
			assertEqual(slackTexts.length, 1, 'error-workflow Slack messages');
			assertEqual(mail[0].subject, '[SprintHub sync] Workflow failed: SprintHub lead webhook', 'error-workflow e-mail subject');
			for (const part of ['Node: Upsert Lead', 'Error: ', 'Mode: webhook', 'Execution: ', 'What to do: ']) assertIncludes(mail[0].text, part, 'error-workflow e-mail');
			assert(!mail[0].text.includes(stack.serviceRoleKey), 'the alert must not show the service role key');
			assertEqual(slackTexts[0], `${mail[0].subject}\n${mail[0].text}`, 'error-workflow Slack text');
			const errorRuns = (await instance.executions(bundled.alerts.id)).map((row) => [row.mode, row.status]);
			assertEqual(errorRuns, [['error', 'success']], 'executions of the error workflow');
			console.log(indent(`error workflow alert:\n${mail[0].subject}\n${mail[0].text}`));
			assertEqual((await stack.query('select id from leads where id = $1', [leadId])).length, 0, 'the failed lead is not stored');
			assert(!mail[0].text.includes(webhookCredential.data.value), 'the alert must not show the webhook secret');
		});

		await check(`n8n ${major}: stop leaves nothing running`, async () => {
			await instance.stop();
			await sleep(200);
			assertEqual(instance.leftoverProcesses(), [], 'processes with the instance user folder');
			const listening = await fetch(`${instance.baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
				() => true,
				() => false,
			);
			assertEqual(listening, false, 'n8n port still answering');
		});
	} finally {
		await instance.dispose();
		await Promise.allSettled([stack.stop(), sim.close(), slack.close(), smtp.close()]);
		fs.rmSync(workDir, { recursive: true, force: true });
		timings.push(`n8n ${major}: suite ${seconds(Date.now() - versionStarted)} s`);
	}
}

async function main(): Promise<void> {
	const flag = process.argv.indexOf('--n8n');
	const which = flag === -1 ? 'both' : process.argv[flag + 1];
	const majors: N8nMajor[] = which === '1' ? [1] : which === '2' ? [2] : which === 'both' ? [1, 2] : [];
	if (majors.length === 0) throw new Error(`--n8n must be 1, 2 or both, not ${which}`);
	const started = Date.now();
	const packDir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-pack-'));
	try {
		let tarball = '';
		const packed = await check('build and pack the package (dist, workflows, migrations, no runtime dependencies)', async () => {
			const buildStarted = Date.now();
			tarball = await buildAndPack(packDir);
			timings.push(`build + pack: ${seconds(Date.now() - buildStarted)} s`);
			await checkTarball(tarball);
		});
		const installed = await check(`n8n ${majors.join(' and ')} installed in ${e2eCacheDir}`, () => ensureN8n(majors));
		if (packed && installed) {
			for (const major of majors) {
				await runOn(major, tarball);
				// The editor in a real browser (Debian's chromium): editorBrowser.ts.
				await runEditorBrowser(major, tarball, check, timings);
				// Queue mode (main + two workers, Redis, Postgres as n8n's database): queueSync.ts.
				await runQueueSync(major, tarball, check, timings);
			}
		}
	} finally {
		fs.rmSync(packDir, { recursive: true, force: true });
	}
	const failed = outcomes.filter((outcome) => !outcome.ok).length;
	console.log(`\n${timings.join('\n')}\ntotal ${seconds(Date.now() - started)} s`);
	console.log(`${outcomes.length - failed} passed, ${failed} failed`);
	process.exitCode = failed === 0 && outcomes.length > 0 ? 0 : 1;
}

main().catch((error: unknown) => {
	console.error(error);
	console.log('0 passed, 1 failed');
	process.exitCode = 1;
});
