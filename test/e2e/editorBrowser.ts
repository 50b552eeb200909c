/**
 * The editor as a person uses it, in a real browser (Debian's chromium via puppeteer-core) on a real
 * n8n with the packed package installed as n8n does, next to the real database stack and the SprintHub
 * simulator. On each n8n version: set up the owner; create the SprintHub credential in the UI under the
 * name n8n proposes and test it (a Base URL without scheme in front of the plain-HTTP simulator, a wrong
 * token, the right one), then the Supabase credential; import the three bundled workflows from their
 * files; check that both SprintHub nodes of the sync workflow picked both credentials by themselves; add
 * a new node and search the segment list; run the sync workflow from the editor (its Manual Trigger)
 * and read the output panel, twice (then nothing is due); open every node of the three workflows (no
 * credential or parameter issue); and no browser console error that the package causes. Screenshots
 * of every step go to a folder the run prints. Used by run.ts and by editor.e2e.ts, which can also
 * refresh the README's screenshots (npm run screenshots).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { ElementHandle, Page } from 'puppeteer-core';

import { startSimulator, type Simulator } from '../support/simulator';
import { startStack, type Stack } from '../support/stack';
import { clickText, EditorBrowser, fillParameter, waitForText, waitUntil } from './support/browser';
import {
	addNodeWithAction,
	canvasNodeNames,
	canvasSubtitle,
	closeCredentialModal,
	closeNode,
	credentialFields,
	credentialValues,
	executeWorkflow,
	importWorkflowFile,
	ndvParametersPanel,
	nodeSucceeded,
	nodesWithIssues,
	openNewCredential,
	openNode,
	openWorkflow,
	outputRows,
	pickCredential,
	saveAndReadTest,
	setUpOwner,
	waitForEditorFiles,
	waitForListItems,
} from './support/editorUi';
import { installPackageTarball } from './support/installPackage';
import { N8nInstance } from './support/n8nInstance';
import { repoRoot, type N8nMajor } from './support/paths';
import type { CheckFn } from './queueSync';

const segments = [
	{ id: 101, name: 'Hot leads', size: 12 },
	{ id: 102, name: 'Reativação', size: 8 },
];
/** The names the bundled workflows refer to, which are also the names n8n proposes for a new credential. */
const sprintHubCredentialName = 'SprintHub account';
const supabaseCredentialName = 'Supabase account';
const credentialLabels = { sprintHub: 'SprintHub Account', supabase: 'Supabase Project (Service Role)' };
const workflowFiles = ['sprinthub-sync-error-alerts.json', 'sprinthub-segment-sync.json', 'sprinthub-lead-webhook.json'];
const syncWorkflowName = 'SprintHub segment sync';
/** The sync workflow's Manual Trigger: what a person runs it with from the editor. */
const runByHand = 'Run by hand';
const packageNodes = ['Sync Due Segments', 'Check Sync Health', 'Upsert Lead'];

export interface EditorBrowserOptions {
	/** Also save the README's screenshots (node panel, output, credential test) into this folder. */
	readmeImagesDir?: string;
}

function assert(condition: unknown, message: string): asserts condition {
	if (!condition) throw new Error(message);
}

function assertEqual<T>(actual: T, expected: T, what: string): void {
	if (JSON.stringify(actual) !== JSON.stringify(expected)) {
		throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
	}
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);

/** Saves a README image (an element's screenshot) under its fixed name. */
async function saveReadmeImage(dir: string, fileName: string, element: ElementHandle | null): Promise<void> {
	assert(element, `the element for ${fileName}`);
	fs.mkdirSync(dir, { recursive: true });
	await element.screenshot({ path: path.join(dir, fileName) as `${string}.png` });
	console.log(`       README image: ${path.join(dir, fileName)}`);
}

/**
 * Saves a README image of the open node: its panel and, to its right, the output panel as the page
 * shows them (an element screenshot of the output panel alone would scroll it and cut its left part).
 */
async function saveReadmeNodeAndOutput(dir: string, fileName: string, page: Page, height: number): Promise<void> {
	const middle = await (await ndvParametersPanel(page))?.boundingBox();
	const output = await (await page.$('[data-test-id=output-panel]'))?.boundingBox();
	assert(middle && output, `the node and output panels for ${fileName}`);
	fs.mkdirSync(dir, { recursive: true });
	const clip = { x: middle.x, y: middle.y, width: output.x + output.width - middle.x, height: Math.min(height, middle.height) };
	await page.screenshot({ path: path.join(dir, fileName) as `${string}.png`, clip });
	console.log(`       README image: ${path.join(dir, fileName)}`);
}

/** Saves a README image of the open node's panel, its top `height` pixels (the rest is empty). */
async function saveReadmeNodePanel(dir: string, fileName: string, page: Page, height: number): Promise<void> {
	const box = await (await ndvParametersPanel(page))?.boundingBox();
	assert(box, `the node panel for ${fileName}`);
	fs.mkdirSync(dir, { recursive: true });
	await page.screenshot({ path: path.join(dir, fileName) as `${string}.png`, clip: { x: box.x, y: box.y, width: box.width, height: Math.min(height, box.height) } });
	console.log(`       README image: ${path.join(dir, fileName)}`);
}

/** The label of a node parameter in the open node. */
async function parameterLabel(page: Page, parameterName: string): Promise<string> {
	return page.$eval(`[data-test-id=ndv] [data-test-id=parameter-input-${parameterName}]`, (element) => {
		let item: HTMLElement | null = element as HTMLElement;
		while (item && !item.querySelector('label')) item = item.parentElement;
		return ((item?.querySelector('label') as HTMLElement | null)?.innerText ?? '').split('\n')[0].trim();
	});
}

/** Where this version's step screenshots go (E2E_SCREENSHOTS_DIR overrides the folder of all versions). */
function screenshotDir(major: N8nMajor): string {
	return path.join(process.env.E2E_SCREENSHOTS_DIR ?? path.join(repoRoot, '.tmp', 'e2e-screenshots'), `n8n${major}`);
}

/** What every step works with. */
export interface EditorContext {
	major: N8nMajor;
	baseUrl: string;
	page: Page;
	/** Saves a numbered screenshot of the page or of one element. */
	shot(name: string, element?: ElementHandle | null): Promise<string>;
	stack: Stack;
	sim: Simulator;
	/** How many executions n8n has recorded (finished or not). */
	executionCount(): Promise<number>;
	readmeImagesDir?: string;
}

/** Waits until the open node's credential fields show `expected` ([label, credential] pairs); fails with what they show. */
async function expectCredentialValues(page: Page, expected: string[][], what: string): Promise<void> {
	let shown: string[][] = [];
	await waitUntil(
		async () => {
			shown = await credentialValues(page);
			return JSON.stringify(shown) === JSON.stringify(expected) ? true : undefined;
		},
		what,
		15_000,
	).catch(() => assertEqual(shown, expected, what));
}

/** Opens a node and checks it shows no parameter issue and no credential issue; closes it. */
async function expectNoIssuesInPanel(page: Page, nodeName: string): Promise<void> {
	await openNode(page, nodeName);
	const parameterIssues = await page.$$eval('[data-test-id=ndv] [data-test-id=parameter-issues]', (elements) =>
		elements.filter((element) => (element as HTMLElement).offsetParent !== null).map((element) => element.closest('[data-test-id=parameter-item]')?.textContent?.slice(0, 80) ?? ''),
	);
	assertEqual(parameterIssues, [], `parameter issues in ${nodeName}`);
	let credentials: Awaited<ReturnType<typeof credentialFields>> = [];
	const unset = () => credentials.filter((field) => field.issue || field.value === '');
	if (await page.$('[data-test-id=ndv] [data-test-id=node-credentials-select]')) {
		await waitUntil(async () => {
			credentials = await credentialFields(page);
			return unset().length === 0 ? true : undefined;
		}, `the credentials of ${nodeName} are set`, 15_000).catch(() => undefined);
	}
	assertEqual(unset(), [], `credential fields with an issue in ${nodeName}`);
	if (packageNodes.includes(nodeName)) assert(credentials.length > 0, `${nodeName} shows its credentials`);
	await closeNode(page);
}
/** The steps after the owner set-up, in order; each is one check. */
export const editorSteps: Array<{ title: string; run: (ctx: EditorContext) => Promise<void> }> = [
	{
		title: 'the SprintHub credential under the name n8n proposes: a Base URL without scheme, a wrong token, then the right one',
		async run({ page, baseUrl, sim, shot, readmeImagesDir }) {
			await openNewCredential(page, baseUrl, 'SprintHub API');
			// n8n proposes the name the workflows expect (it shows it a moment after the modal opens).
			await waitForText(page, '[data-test-id=credential-name]', sprintHubCredentialName, 15_000);
			// The simulator speaks plain HTTP; without a scheme the Base URL is read as https://.
			const address = sim.baseUrl.replace(/^http:\/\//, '');
			await fillParameter(page, 'baseUrl', address);
			await fillParameter(page, 'instance', sim.instance);
			await fillParameter(page, 'apiToken', 'aaaaaaaa-bbbb-4ccc-addd-eeeeeeeeeeee');
			let message = await saveAndReadTest(page, `The server at https://${address} does not speak HTTPS`);
			assert(message.includes(`write the Base URL with http:// (http://${address})`), `the test says to use http://:\n${message}`);
			assert(!/ssl3_record|ERR_SSL|wrong version number/i.test(message), `no OpenSSL text:\n${message}`);
			await shot('sprinthub-credential-https-mismatch');

			await fillParameter(page, 'baseUrl', sim.baseUrl);
			message = await saveAndReadTest(page, 'SprintHub rejected the API token');
			await shot('sprinthub-credential-wrong-token');
			if (readmeImagesDir) await saveReadmeImage(readmeImagesDir, 'credential-test.png', await page.$('[data-test-id=editCredential-modal] .el-dialog, [data-test-id=editCredential-modal]'));

			await fillParameter(page, 'apiToken', sim.token);
			message = await saveAndReadTest(page, 'Connection tested successfully');
			assert(!message.includes('Couldn’t connect'), `only the success shows:\n${message}`);
			await shot('sprinthub-credential-ok');
			await closeCredentialModal(page);
		},
	},
	{
		title: 'the Supabase credential under its default name, tested',
		async run({ page, baseUrl, stack, shot }) {
			await openNewCredential(page, baseUrl, 'Supabase API');
			await waitForText(page, '[data-test-id=credential-name]', supabaseCredentialName, 15_000);
			await fillParameter(page, 'host', stack.supabaseUrl);
			await fillParameter(page, 'serviceRole', stack.serviceRoleKey);
			const message = await saveAndReadTest(page, 'Connection tested successfully');
			assert(!message.includes('Couldn’t connect'), `only the success shows:\n${message}`);
			await shot('supabase-credential-ok');
			await closeCredentialModal(page);
		},
	},
	{
		title: 'the bundled workflows imported from their files and saved',
		async run({ page, baseUrl, shot }) {
			for (const file of workflowFiles) {
				await importWorkflowFile(page, baseUrl, path.join(repoRoot, 'workflows', file));
				await shot(`imported-${file.replace(/\.json$/, '')}`);
			}
		},
	},
	{
		title: 'the imported sync workflow: both SprintHub nodes picked both credentials by themselves (saved); subtitles',
		async run({ page, baseUrl, shot }) {
			// Opened from the list: what n8n saved at the import, not what the import left in the page.
			await openWorkflow(page, baseUrl, syncWorkflowName);
			const expected = [
				[credentialLabels.sprintHub, sprintHubCredentialName],
				[credentialLabels.supabase, supabaseCredentialName],
			];
			for (const nodeName of ['Sync Due Segments', 'Check Sync Health']) {
				await openNode(page, nodeName);
				await expectCredentialValues(page, expected, `credentials of ${nodeName} after the import`);
				if (nodeName === 'Sync Due Segments') await shot('sync-due-credentials-after-import');
				await closeNode(page);
			}
			assertEqual(await nodesWithIssues(page), [], `nodes with issues in ${syncWorkflowName}`);
			assertEqual(await canvasSubtitle(page, 'Sync Due Segments'), 'Sync due segments', 'subtitle of Sync Due Segments');
			assertEqual(await canvasSubtitle(page, 'Check Sync Health'), 'Check sync health', 'subtitle of Check Sync Health');
			await shot('sync-workflow-canvas');
		},
	},
	{
		title: 'a new node: the segment list shows the simulator’s segments',
		async run({ page, baseUrl, sim, shot, readmeImagesDir }) {
			await page.goto(`${baseUrl}/workflow/new`, { waitUntil: 'domcontentloaded' });
			await addNodeWithAction(page, 'SprintHub', 'Sync segments');
			// n8n fills the credential saved last, of one type only, into a new node without any
			// (NodeCredentials' "most recent credential" default): here Supabase's.
			await expectCredentialValues(
				page,
				[
					[credentialLabels.sprintHub, ''],
					[credentialLabels.supabase, supabaseCredentialName],
				],
				'credential labels and values of a new node',
			);
			await pickCredential(page, credentialLabels.sprintHub, sprintHubCredentialName);
			assertEqual(await parameterLabel(page, 'segment'), 'Segment', 'label of the segment field');
			await page.click('[data-test-id=ndv] [data-test-id=rlc-input]');
			const listed = await waitForListItems(page, segments.length);
			const expected = segments.map((segment) => `${segment.name} (${sim.truth.segmentMemberIds(segment.id).length} leads)`);
			assertEqual(listed, expected, 'segments in the list');
			await shot('new-node-segment-list');
			await clickText(page, '[data-test-id=rlc-item]', expected[0]);
			await page.waitForSelector('[data-test-id=rlc-item]', { hidden: true });
			if (readmeImagesDir) await saveReadmeNodePanel(readmeImagesDir, 'node-panel.png', page, 520);
			await shot('new-node-segment-picked');
			await closeNode(page);
			assertEqual(await nodesWithIssues(page), [], 'nodes with issues in the new workflow');
		},
	},
	{
		title: `Execute workflow (${runByHand}) syncs the due segments; the output panel shows one summary per segment`,
		async run({ page, baseUrl, stack, sim, shot, readmeImagesDir, executionCount }) {
			await openWorkflow(page, baseUrl, syncWorkflowName);
			await executeWorkflow(page, executionCount, runByHand);
			for (const segment of segments) {
				const members = await stack.query<{ lead_id: string }>('select lead_id from sync_segment_leads where segment_id = $1 and left_at is null order by lead_id', [segment.id]);
				assertEqual(members.map((row) => Number(row.lead_id)), [...sim.truth.segmentMemberIds(segment.id)].sort((x, y) => x - y), `members of segment ${segment.id}`);
			}
			const logs = await stack.query<{ segment_id: string; status: string; trigger: string }>('select segment_id, status, trigger from sync_segments_logs order by segment_id');
			assertEqual(logs.map((row) => [Number(row.segment_id), row.status, row.trigger]), segments.map((segment) => [segment.id, 'success', 'manual']), 'log rows (segment, status, trigger)');
			await openNode(page, 'Sync Due Segments');
			const rows = await outputRows(page);
			assertEqual(rows.map((row) => [row.segmentId, row.segmentName, row.status]), segments.map((segment) => [String(segment.id), segment.name, 'success']), 'output items of Sync Due Segments');
			await shot('sync-due-output');
			if (readmeImagesDir) await saveReadmeNodeAndOutput(readmeImagesDir, 'sync-output.png', page, 480);
			await closeNode(page);
		},
	},
	{
		title: 'Execute workflow with nothing due: one item says so and names the next segment; the health check runs',
		async run({ page, shot, executionCount }) {
			await executeWorkflow(page, executionCount, runByHand);
			await openNode(page, 'Sync Due Segments');
			const [item, ...more] = await outputRows(page);
			assertEqual(more.length, 0, 'more than one output item');
			assertEqual([item.status, item.segmentsDue], ['nothing_due', '0'], 'status and segmentsDue of the item');
			assert(/^No segment is due\. Next: .+ \(10[12]\) at \d{4}-\d\d-\d\dT/.test(String(item.message)), `the item says when the next segment is due: ${JSON.stringify(item)}`);
			await shot('sync-due-nothing-due');
			await closeNode(page);
			assert(await nodeSucceeded(page, 'Check Sync Health'), 'Check Sync Health ran');
		},
	},
	{
		title: 'every node of the three workflows opens without a credential or parameter issue',
		async run({ page, baseUrl }) {
			for (const workflowName of [syncWorkflowName, 'SprintHub lead webhook', 'SprintHub sync error alerts']) {
				await openWorkflow(page, baseUrl, workflowName);
				for (const nodeName of await canvasNodeNames(page)) await expectNoIssuesInPanel(page, nodeName);
				assertEqual(await nodesWithIssues(page), [], `nodes with issues in ${workflowName}`);
			}
		},
	},
];

export async function runEditorBrowser(major: N8nMajor, tarball: string, check: CheckFn, timings: string[], options: EditorBrowserOptions = {}): Promise<void> {
	const started = Date.now();
	const name = (text: string) => `n8n ${major} editor in a browser: ${text}`;
	const [stack, sim] = await Promise.all([startStack(), startSimulator({ segments })]);
	// Fewer calls to api.n8n.io, which this offline machine cannot reach anyway.
	const instance = await N8nInstance.create({ major, env: { N8N_DYNAMIC_BANNERS_ENABLED: 'false' } });
	let browser: EditorBrowser | undefined;
	try {
		const ready = await check(name('n8n with the package, the owner set up in the browser'), async () => {
			await installPackageTarball(instance.userFolder, tarball);
			for (const segment of segments) await stack.query('select sync_add_segment($1, $2)', [segment.id, segment.name]);
			// The Slack and SMTP credentials the alert nodes expect, as if the user had them already.
			await instance.importCredentials([
				{ id: 'E2eBSlackCred0001', name: 'Slack account', type: 'slackApi', data: { accessToken: 'xoxb-e2e-browser-token' } },
				{ id: 'E2eBSmtpCred00001', name: 'SMTP account', type: 'smtp', data: { host: '127.0.0.1', port: 2525, secure: false } },
				// The lead webhook trigger's Header Auth (the secret SprintHub sends).
				{ id: 'E2eBWebhookCred01', name: 'SprintHub webhook secret', type: 'httpHeaderAuth', data: { name: 'X-SprintHub-Secret', value: randomBytes(32).toString('hex') } },
			]);
			const { readyMs } = await instance.start();
			timings.push(`n8n ${major} editor: n8n start ready in ${seconds(readyMs)} s`);
			await waitForEditorFiles(instance.baseUrl);
			browser = await EditorBrowser.launch(screenshotDir(major));
			console.log(`       screenshots: ${browser.screenshotDir}`);
			await setUpOwner(browser.page, instance.baseUrl, (shotName) => browser!.shot(shotName));
		});
		if (!ready || !browser) return;
		const session = browser;
		const ctx: EditorContext = {
			major,
			baseUrl: instance.baseUrl,
			page: session.page,
			shot: (shotName, element) => session.shot(shotName, element),
			stack,
			sim,
			executionCount: async () => (await instance.executions()).length,
			readmeImagesDir: options.readmeImagesDir,
		};
		for (const step of editorSteps) {
			if (!(await check(name(step.title), () => step.run(ctx)))) await session.shot('failed').catch(() => undefined);
		}
		await check(name('no browser console error that the package causes'), async () => {
			if (process.env.E2E_VERBOSE === '1') console.log(JSON.stringify(session.allRecorded(), null, 1));
			assertEqual(session.problems(), [], 'console errors, page errors and failed requests not from n8n itself');
		});
	} finally {
		await browser?.close();
		await instance.dispose();
		await Promise.allSettled([stack.stop(), sim.close()]);
		timings.push(`n8n ${major} editor in a browser: ${seconds(Date.now() - started)} s`);
	}
}
