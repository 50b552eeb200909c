/**
 * The editor as a person uses it, in a real browser (Debian's chromium via puppeteer-core) on a real
 * n8n with the packed package installed as n8n does, next to the real database stack and the SprintHub
 * simulator. On each n8n version: set up the owner; create the SprintHub credential in the UI and test
 * it (a Base URL without scheme in front of the plain-HTTP simulator, a wrong token, the right one),
 * then the Supabase credential; import the three bundled workflows from their files; open every node
 * and check that it shows no credential or parameter issue (the SprintHub credential has its own name,
 * so it is picked in one node and must reach the other; Supabase is matched by its default name); add
 * a new node and search the segment list; run the sync workflow from the editor and read the output
 * panel, twice (then nothing is due); and no browser console error that the package causes.
 * Screenshots of every step go to a folder the run prints. Used by run.ts and by editor.e2e.ts, which
 * can also refresh the README's screenshots (--readme-images).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { ElementHandle, Page } from 'puppeteer-core';

import { startSimulator, type Simulator } from '../support/simulator';
import { startStack, type Stack } from '../support/stack';
import { clickText, EditorBrowser, fillParameter, sleep, visibleText, waitForText } from './support/browser';
import { installPackageTarball } from './support/installPackage';
import { N8nInstance } from './support/n8nInstance';
import { repoRoot, type N8nMajor } from './support/paths';
import type { CheckFn } from './queueSync';

const owner = { email: 'owner@example.test', firstName: 'Ada', lastName: 'Owner', password: 'E2e-owner-password-1' };
const segments = [
	{ id: 101, name: 'Hot leads', size: 12 },
	{ id: 102, name: 'Reativação', size: 8 },
];
/** Not the name the bundled workflows expect, so picking it in one node must reach the other. */
const sprintHubCredentialName = 'SprintHub (acme)';
const workflowFiles = ['sprinthub-sync-error-alerts.json', 'sprinthub-segment-sync.json', 'sprinthub-lead-webhook.json'];
const syncWorkflowName = 'SprintHub segment sync';
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

/** The steps after the owner set-up, in order; each is one check. */
export const editorSteps: Array<{ title: string; run: (ctx: EditorContext) => Promise<void> }> = [
	{
		title: 'the SprintHub credential: a Base URL without scheme, a wrong token, then the right one',
		async run({ page, baseUrl, sim, shot, readmeImagesDir }) {
			await openNewCredential(page, baseUrl, 'SprintHub API');
			await renameCredential(page, sprintHubCredentialName);
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
			if (readmeImagesDir) await saveReadmeImage(readmeImagesDir, 'credential-test.png', await page.$('[data-test-id=editCredential-modal]'));

			await fillParameter(page, 'apiToken', sim.token);
			message = await saveAndReadTest(page, 'Connection tested successfully');
			assert(!message.includes('Couldn’t connect'), `only the success shows:\n${message}`);
			await shot('sprinthub-credential-ok');
			await closeModal(page);
		},
	},
	{
		title: 'the Supabase credential under its default name, tested',
		async run({ page, baseUrl, stack, shot }) {
			await openNewCredential(page, baseUrl, 'Supabase API');
			const credentialName = await visibleText(page, '[data-test-id=credential-name]');
			assert(credentialName.includes('Supabase account'), `n8n names it Supabase account: ${credentialName}`);
			await fillParameter(page, 'host', stack.supabaseUrl);
			await fillParameter(page, 'serviceRole', stack.serviceRoleKey);
			const message = await saveAndReadTest(page, 'Connection tested successfully');
			assert(!message.includes('Couldn’t connect'), `only the success shows:\n${message}`);
			await shot('supabase-credential-ok');
			await closeModal(page);
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
		title: 'a new node: the segment list shows the simulator’s segments',
		async run({ page, baseUrl, sim, shot, readmeImagesDir }) {
			await page.goto(`${baseUrl}/workflow/new`, { waitUntil: 'domcontentloaded' });
			await addNodeWithAction(page, 'SprintHub', 'Sync segments');
			const fields = await credentialFields(page);
			assertEqual(fields.map((field) => field.label), ['SprintHub Account', 'Supabase Project (Service Role)'], 'credential labels of a new node');
			// n8n fills one credential of a new node: the one saved last (here Supabase's).
			assertEqual(fields.map((field) => field.value), ['', 'Supabase account'], 'credentials n8n filled in the new node');
			await pickCredential(page, 'SprintHub Account', sprintHubCredentialName);
			assertEqual(await parameterLabel(page, 'segment'), 'Segment', 'label of the segment field');
			await page.click('[data-test-id=ndv] [data-test-id=rlc-input]');
			const listed = await waitForListItems(page, segments.length);
			const expected = segments.map((segment) => `${segment.name} (${sim.truth.segmentMemberIds(segment.id).length} leads)`);
			assertEqual(listed, expected, 'segments in the list');
			await shot('new-node-segment-list');
			if (readmeImagesDir) await saveReadmeImage(readmeImagesDir, 'node-panel.png', await ndvParametersPanel(page));
			await clickText(page, '[data-test-id=rlc-item]', expected[0]);
			await sleep(300);
			await shot('new-node-segment-picked');
			await closeNode(page);
			assertEqual(await nodesWithIssues(page), [], 'nodes with issues in the new workflow');
		},
	},
	{
		title: 'the sync workflow: the SprintHub credential picked in one node reaches the other; subtitles; one trigger to run',
		async run({ page, baseUrl, shot }) {
			await openWorkflow(page, baseUrl, syncWorkflowName);
			// Supabase is matched by its default name; the SprintHub credential has another name, so both
			// SprintHub nodes leave it to the user (n8n marks no issue for that; the field is empty).
			await openNode(page, 'Check Sync Health');
			assertEqual(await credentialValues(page), [['SprintHub Account', ''], ['Supabase Project (Service Role)', 'Supabase account']], 'credentials of Check Sync Health after the import');
			await closeNode(page);
			await openNode(page, 'Sync Due Segments');
			const offered = await pickCredential(page, 'SprintHub Account', sprintHubCredentialName);
			assertEqual(offered, [sprintHubCredentialName], 'credentials the SprintHub field offers');
			await shot('sync-due-credentials-picked');
			await closeNode(page);
			// n8n applies the pick to every node that named the missing credential but does not count it
			// as a change (1.123 and 2.41): any other change saves it, as the README says.
			await moveNodeAndSave(page, 'Describe Sync Error');
			await openWorkflow(page, baseUrl, syncWorkflowName);
			await openNode(page, 'Sync Due Segments');
			assertEqual(await credentialValues(page), [['SprintHub Account', sprintHubCredentialName], ['Supabase Project (Service Role)', 'Supabase account']], 'credentials of Sync Due Segments, saved');
			await closeNode(page);
			await openNode(page, 'Check Sync Health');
			assertEqual(await credentialValues(page), [['SprintHub Account', sprintHubCredentialName], ['Supabase Project (Service Role)', 'Supabase account']], 'credentials of Check Sync Health after one pick in Sync Due Segments');
			await closeNode(page);
			assertEqual(await canvasSubtitle(page, 'Sync Due Segments'), 'Sync due segments', 'subtitle of Sync Due Segments');
			assertEqual(await canvasSubtitle(page, 'Check Sync Health'), 'Check sync health', 'subtitle of Check Sync Health');
			const runButtons = await page.$$eval('[data-test-id^=execute-workflow-button]', (elements) =>
				elements.filter((element) => (element as HTMLElement).offsetParent !== null).map((element) => (element as HTMLElement).innerText.replace(/\s+/g, ' ').trim()),
			);
			assert(runButtons.includes('Execute workflow'), `an "Execute workflow" button: ${JSON.stringify(runButtons)}`);
			assert(!runButtons.some((text) => / from /.test(text)), `no choice of trigger: ${JSON.stringify(runButtons)}`);
			await shot('sync-workflow-canvas');
		},
	},
	{
		title: 'Execute workflow syncs the due segments; the output panel shows one summary per segment',
		async run({ page, stack, sim, shot, readmeImagesDir, executionCount }) {
			await executeWorkflow(page, executionCount);
			for (const segment of segments) {
				const members = await stack.query<{ lead_id: string }>('select lead_id from sync_segment_leads where segment_id = $1 and left_at is null order by lead_id', [segment.id]);
				assertEqual(members.map((row) => Number(row.lead_id)), [...sim.truth.segmentMemberIds(segment.id)].sort((x, y) => x - y), `members of segment ${segment.id}`);
			}
			const logs = await stack.query<{ segment_id: string; status: string; trigger: string }>('select segment_id, status, trigger from sync_segments_logs order by segment_id');
			assertEqual(logs.map((row) => [Number(row.segment_id), row.status, row.trigger]), segments.map((segment) => [segment.id, 'success', 'manual']), 'log rows (segment, status, trigger)');
			await openNode(page, 'Sync Due Segments');
			await shot('sync-due-output');
			if (readmeImagesDir) await saveReadmeImage(readmeImagesDir, 'sync-output.png', await page.$('[data-test-id=output-panel]'));
			const rows = await outputRows(page);
			assertEqual(rows.map((row) => [row.segmentId, row.segmentName, row.status]), segments.map((segment) => [String(segment.id), segment.name, 'success']), 'output items of Sync Due Segments');
			await closeNode(page);
		},
	},
	{
		title: 'Execute workflow with nothing due: one item says so and names the next segment; the health check runs',
		async run({ page, shot, executionCount }) {
			await executeWorkflow(page, executionCount);
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
			for (const nodeName of await canvasNodeNames(page)) await expectNoIssuesInPanel(page, nodeName);
			assertEqual(await nodesWithIssues(page), [], `nodes with issues in ${syncWorkflowName}`);
			for (const workflowName of ['SprintHub lead webhook', 'SprintHub sync error alerts']) {
				await openWorkflow(page, baseUrl, workflowName);
				if (workflowName === 'SprintHub lead webhook') {
					await openNode(page, 'Upsert Lead');
					await pickCredential(page, 'SprintHub Account', sprintHubCredentialName);
					await closeNode(page);
					await moveNodeAndSave(page, 'Upsert Lead');
				}
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

/** n8n answers readiness before it has written the editor's files; wait until `/` serves them. */
async function waitForEditorFiles(baseUrl: string): Promise<void> {
	const deadline = Date.now() + 60_000;
	while (Date.now() < deadline) {
		const status = await fetch(baseUrl, { headers: { accept: 'text/html' } }).then(
			(response) => response.status,
			() => 0,
		);
		if (status === 200) return;
		await sleep(250);
	}
	throw new Error(`${baseUrl} did not serve the editor within 60 s`);
}

export async function setUpOwner(page: Page, baseUrl: string, shot: (name: string) => Promise<string>): Promise<void> {
	// A page that leaves unsaved changes asks first; a user would confirm.
	page.on('dialog', (dialog) => void dialog.accept());
	await page.goto(baseUrl, { waitUntil: 'domcontentloaded' });
	await page.waitForSelector('input[name=email]', { visible: true });
	await shot('owner-setup');
	await page.type('input[name=email]', owner.email);
	await page.type('input[name=firstName]', owner.firstName);
	await page.type('input[name=lastName]', owner.lastName);
	await page.type('input[name=password]', owner.password);
	await page.click('[data-test-id=form-submit-button]');
	// 1.x lands on the workflows, 2.x on its assistant's introduction.
	await page.waitForFunction(() => !location.pathname.startsWith('/setup'), { timeout: 60_000 });
	await shot('owner-done');
}

/** Credentials → Create credential → search the type → Continue: the new credential's modal. */
async function openNewCredential(page: Page, baseUrl: string, typeName: string): Promise<void> {
	await page.goto(`${baseUrl}/home/credentials`, { waitUntil: 'domcontentloaded' });
	for (let attempt = 1; ; attempt++) {
		await page.waitForSelector('[data-test-id=add-resource-credential]', { visible: true });
		await page.click('[data-test-id=add-resource-credential]');
		const input = '[data-test-id=new-credential-type-select] input';
		await page.waitForSelector(input, { visible: true });
		await page.type(input, typeName, { delay: 20 });
		// The list filters as one types and re-renders meanwhile; pick the type once it is the only one left.
		await page.waitForFunction(
			(name) => {
				const visible = Array.from(document.querySelectorAll('[data-test-id=new-credential-type-select-option]')).filter((option) => (option as HTMLElement).offsetParent !== null);
				return visible.length === 1 && (visible[0] as HTMLElement).innerText.trim() === name;
			},
			{ timeout: 15_000 },
			typeName,
		);
		await clickText(page, '[data-test-id=new-credential-type-select-option]', typeName);
		await sleep(300);
		await page.click('[data-test-id=new-credential-type-button]');
		const opened = await page
			.waitForSelector('[data-test-id=editCredential-modal] [data-test-id=credential-save-button]', { visible: true, timeout: 15_000 })
			.then(() => true, () => false);
		if (opened && (await visibleText(page, '[data-test-id=editCredential-modal]')).includes(typeName)) return;
		if (attempt === 3) throw new Error(`the credential modal for ${typeName} did not open:\n${(await visibleText(page, 'body')).slice(0, 1000)}`);
		// Something else opened (a click landed on another type): close it and start again.
		await page.keyboard.press('Escape');
		await sleep(500);
		await page.goto(`${baseUrl}/home/credentials`, { waitUntil: 'domcontentloaded' });
	}
}

async function renameCredential(page: Page, newName: string): Promise<void> {
	await page.click('[data-test-id=credential-name] [data-test-id=inline-edit-preview]');
	const input = '[data-test-id=credential-name] input';
	await page.waitForSelector(input, { visible: true });
	await page.click(input, { count: 3 });
	await page.keyboard.press('Backspace');
	await page.type(input, newName);
	await page.keyboard.press('Enter');
	await waitForText(page, '[data-test-id=credential-name]', newName);
}

/**
 * Saves the credential (n8n tests it on save) and waits until the test's result shows `expected`
 * (opening "More details" of an error); returns the modal's visible text.
 */
async function saveAndReadTest(page: Page, expected: string): Promise<string> {
	const modal = '[data-test-id=editCredential-modal]';
	await page.click(`${modal} [data-test-id=credential-save-button]`);
	const deadline = Date.now() + 60_000;
	for (;;) {
		const text = await visibleText(page, modal);
		if (text.includes(expected)) return text;
		if (text.includes('More details')) await clickText(page, `${modal} a, ${modal} span`, 'More details', 5_000).catch(() => undefined);
		if (Date.now() > deadline) throw new Error(`the credential test did not show "${expected}":\n${text.slice(0, 1500)}`);
		await sleep(250);
	}
}

async function closeModal(page: Page): Promise<void> {
	await page.keyboard.press('Escape');
	await page.waitForSelector('[data-test-id=editCredential-modal]', { hidden: true });
}

/**
 * A new workflow, then the workflow menu → Import from File… (2.x: Import → From file) → the file;
 * saved with Save (1.x) or by n8n itself (2.x saves every change).
 */
async function importWorkflowFile(page: Page, baseUrl: string, file: string): Promise<void> {
	await page.goto(`${baseUrl}/workflow/new`, { waitUntil: 'domcontentloaded' });
	await page.waitForSelector('[data-test-id=workflow-menu]', { visible: true });
	const savesByItself = (await page.$('[data-test-id=workflow-save-button]')) === null;
	const autosaved = savesByItself
		? page.waitForResponse((response) => /^\/rest\/workflows(\/[^/]+)?$/.test(new URL(response.url()).pathname) && ['POST', 'PATCH'].includes(response.request().method()), { timeout: 60_000 })
		: null;
	for (let attempt = 1; ; attempt++) {
		await page.click('[data-test-id=workflow-menu]');
		const submenu = await page.waitForSelector('[data-test-id=workflow-menu-item-import], [data-test-id=workflow-menu-item-import-from-file]', { visible: true });
		if ((await submenu!.evaluate((element) => element.getAttribute('data-test-id'))) === 'workflow-menu-item-import') await submenu!.hover();
		const item = await page.waitForSelector('[data-test-id=workflow-menu-item-import-from-file]', { visible: true });
		// The menu slides in; a click during the animation can miss.
		await sleep(300);
		try {
			const [chooser] = await Promise.all([page.waitForFileChooser({ timeout: 10_000 }), item!.click()]);
			await chooser.accept([file]);
			break;
		} catch (error) {
			if (attempt === 3) throw error;
			await page.keyboard.press('Escape');
		}
	}
	await page.waitForSelector('[data-test-id=canvas-node]', { visible: true });
	if (autosaved) {
		const response = await autosaved;
		assert(response.ok(), `n8n saved the imported workflow (${response.status()})`);
	} else await saveWorkflow(page);
	await page.waitForFunction(() => /^\/workflow\/[A-Za-z0-9]+$/.test(location.pathname) && !location.pathname.endsWith('/new'));
}

/** Save (1.x); 2.x has no Save button, it saves every change by itself. */
async function saveWorkflow(page: Page): Promise<void> {
	const button = await page.$('[data-test-id=workflow-save-button]');
	if (!button) return;
	const text = (await button.evaluate((element) => (element as HTMLElement).innerText)).trim();
	if (text === 'Saved') return;
	await button.click();
	await waitForText(page, '[data-test-id=workflow-save-button]', 'Saved');
}

/** Drags a node a little and saves the workflow (2.x: waits until n8n has saved it by itself). */
async function moveNodeAndSave(page: Page, nodeName: string): Promise<void> {
	const savesByItself = (await page.$('[data-test-id=workflow-save-button]')) === null;
	const autosaved = savesByItself
		? page.waitForResponse((response) => /^\/rest\/workflows\/[^/]+$/.test(new URL(response.url()).pathname) && response.request().method() === 'PATCH', { timeout: 60_000 })
		: null;
	const node = await page.waitForSelector(`[data-test-id=canvas-node][data-node-name="${nodeName}"]`, { visible: true });
	const box = await node!.boundingBox();
	assert(box, `${nodeName} is on the canvas`);
	await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
	await page.mouse.down();
	await page.mouse.move(box.x + box.width / 2 + 40, box.y + box.height / 2 + 20, { steps: 5 });
	await page.mouse.up();
	if (autosaved) assert((await autosaved).ok(), 'n8n saved the workflow');
	else await saveWorkflow(page);
}

/** Opens a workflow from the Overview list by its name. */
async function openWorkflow(page: Page, baseUrl: string, workflowName: string): Promise<void> {
	await page.goto(`${baseUrl}/home/workflows`, { waitUntil: 'domcontentloaded' });
	await page.waitForSelector('[data-test-id=workflow-card-name]', { visible: true });
	await clickText(page, '[data-test-id=workflow-card-name]', workflowName);
	await page.waitForSelector('[data-test-id=canvas-node]', { visible: true });
	await sleep(500);
}

async function canvasNodeNames(page: Page): Promise<string[]> {
	return page.$$eval('[data-test-id=canvas-node]', (elements) =>
		elements
			.filter((element) => !element.querySelector('[data-test-id=sticky]'))
			.map((element) => element.getAttribute('data-node-name') ?? '')
			.filter(Boolean),
	);
}

/** Names of the canvas nodes that show n8n's issue marker, sorted. */
async function nodesWithIssues(page: Page): Promise<string[]> {
	await sleep(300);
	const names = await page.$$eval('[data-test-id=canvas-node]', (elements) =>
		elements.filter((element) => element.querySelector('[data-test-id=node-issues]')).map((element) => element.getAttribute('data-node-name') ?? ''),
	);
	return names.sort();
}

async function canvasSubtitle(page: Page, nodeName: string): Promise<string> {
	const text = await page.$eval(`[data-test-id=canvas-node][data-node-name="${nodeName}"]`, (element) => (element as HTMLElement).innerText);
	const lines = text.split('\n').map((line) => line.trim()).filter(Boolean);
	return lines[lines.indexOf(nodeName) + 1] ?? '';
}

async function openNode(page: Page, nodeName: string): Promise<void> {
	const node = await page.waitForSelector(`[data-test-id=canvas-node][data-node-name="${nodeName}"]`, { visible: true });
	await node!.click({ count: 2 });
	await page.waitForSelector('[data-test-id=ndv] [data-test-id=node-parameters], [data-test-id=ndv] [data-test-id=node-settings]', { visible: true });
	await sleep(500);
}

async function closeNode(page: Page): Promise<void> {
	// 1.x: "Back to canvas"; 2.x: the panel's close button.
	const close = await page.waitForSelector('[data-test-id=back-to-canvas], [data-test-id=ndv-close-button]', { visible: true });
	await close!.click();
	await page.waitForSelector('[data-test-id=ndv] [data-test-id=node-parameters]', { hidden: true });
	await sleep(200);
}

interface CredentialField {
	label: string;
	value: string;
	issue: boolean;
}

/** The credential fields of the open node: label, the credential shown, whether it shows an issue. */
async function credentialFields(page: Page): Promise<CredentialField[]> {
	await page.waitForSelector('[data-test-id=ndv] [data-test-id=node-credentials-select]', { visible: true });
	return page.$$eval('[data-test-id=ndv] [data-test-id=credentials-label]', (labels) =>
		labels.map((label) => {
			const select = label.querySelector('[data-test-id=node-credentials-select]');
			const input = select?.querySelector('input') as HTMLInputElement | null;
			const shown = (select?.querySelector('.el-select__selected-item:not(.is-transparent), .el-select__selection .el-select__selected-item span') as HTMLElement | null)?.innerText ?? input?.value ?? '';
			return {
				label: ((label.querySelector('label') ?? label) as HTMLElement).innerText.split('\n')[0].trim(),
				value: shown.trim(),
				issue: Boolean(select?.querySelector('.n8n-icon, svg') && (select?.className ?? '').includes('hasIssues')) || Boolean(label.querySelector('[class*=hasIssues]')),
			};
		}),
	);
}

async function credentialValues(page: Page): Promise<string[][]> {
	return (await credentialFields(page)).map(({ label, value }) => [label, value]);
}

/** Opens the credential field labelled `label`, returns the credentials it offers, picks `credentialName`. */
async function pickCredential(page: Page, label: string, credentialName: string): Promise<string[]> {
	const fields = await page.$$('[data-test-id=ndv] [data-test-id=credentials-label]');
	let select: ElementHandle | null = null;
	for (const field of fields) {
		const text = await field.evaluate((element) => ((element.querySelector('label') ?? element) as HTMLElement).innerText.split('\n')[0].trim());
		if (text === label) select = await field.$('[data-test-id=node-credentials-select]');
	}
	assert(select, `a credential field labelled ${label}`);
	await select.click();
	await page.waitForSelector('[data-test-id^=node-credentials-select-item-]', { visible: true });
	await sleep(300);
	const offered = await page.$$eval('[data-test-id^=node-credentials-select-item-]', (items) =>
		items
			.filter((item) => (item as HTMLElement).offsetParent !== null && item.getAttribute('data-test-id') !== 'node-credentials-select-item-new')
			.map((item) => (item as HTMLElement).innerText.split('\n')[0].trim()),
	);
	await clickText(page, '[data-test-id^=node-credentials-select-item-]', new RegExp(`^${credentialName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`));
	await sleep(500);
	return offered;
}

/** Opens a node and checks it shows no parameter issue and no credential issue; closes it. */
async function expectNoIssuesInPanel(page: Page, nodeName: string): Promise<void> {
	await openNode(page, nodeName);
	const parameterIssues = await page.$$eval('[data-test-id=ndv] [data-test-id=parameter-issues]', (elements) =>
		elements.filter((element) => (element as HTMLElement).offsetParent !== null).map((element) => element.closest('[data-test-id=parameter-item]')?.textContent?.slice(0, 80) ?? ''),
	);
	assertEqual(parameterIssues, [], `parameter issues in ${nodeName}`);
	const credentials = (await page.$('[data-test-id=ndv] [data-test-id=node-credentials-select]')) ? await credentialFields(page) : [];
	assertEqual(credentials.filter((field) => field.issue || field.value === ''), [], `credential fields with an issue in ${nodeName}`);
	if (packageNodes.includes(nodeName)) assert(credentials.length > 0, `${nodeName} shows its credentials`);
	await closeNode(page);
}

/** The node creator: search `search`, open the node, pick the action `action`; the new node's panel opens. */
async function addNodeWithAction(page: Page, search: string, action: string): Promise<void> {
	const plus = await page.waitForSelector('[data-test-id=node-creator-plus-button]', { visible: true });
	await plus!.click();
	await page.waitForSelector('[data-test-id=node-creator-search-bar]', { visible: true });
	await page.type('[data-test-id=node-creator-search-bar]', search);
	await clickText(page, '[data-test-id=item-iterator-item]', /SprintHub Segment Sync/);
	await clickText(page, '[data-test-id=item-iterator-item]', action);
	await page.waitForSelector('[data-test-id=ndv] [data-test-id=node-parameters]', { visible: true });
	await sleep(500);
}

async function waitForListItems(page: Page, count: number): Promise<string[]> {
	const deadline = Date.now() + 30_000;
	for (;;) {
		const error = await visibleText(page, '[data-test-id=rlc-error-container]');
		if (error) throw new Error(`the segment list shows an error: ${error}`);
		const items = await page.$$eval('[data-test-id=rlc-item]', (elements) =>
			elements.filter((element) => (element as HTMLElement).offsetParent !== null).map((element) => (element as HTMLElement).innerText.trim()),
		);
		if (items.length >= count) return items;
		if (Date.now() > deadline) throw new Error(`the segment list showed ${JSON.stringify(items)}`);
		await sleep(250);
	}
}

/** The middle panel of the open node (parameters), for a README image. */
async function ndvParametersPanel(page: Page): Promise<ElementHandle | null> {
	return page.evaluateHandle(() => {
		const parameters = document.querySelector('[data-test-id=ndv] [data-test-id=node-parameters]');
		let panel = parameters as HTMLElement | null;
		// Up to the panel that also holds the node's title and tabs.
		while (panel && !panel.querySelector('[data-test-id=node-title-container]')) panel = panel.parentElement;
		return panel;
	}) as Promise<ElementHandle | null>;
}

/** Clicks Execute workflow and waits until n8n has recorded one more execution and the run is over. */
async function executeWorkflow(page: Page, executionCount: () => Promise<number>): Promise<void> {
	const before = await executionCount();
	const button = '[data-test-id=execute-workflow-button]';
	await page.click(button);
	const deadline = Date.now() + 120_000;
	while ((await executionCount()) <= before || /Executing|Waiting/.test(await visibleText(page, button))) {
		if (Date.now() > deadline) throw new Error('the workflow run did not end within 120 s');
		await sleep(250);
	}
	await sleep(300);
}

async function nodeSucceeded(page: Page, nodeName: string): Promise<boolean> {
	return page.$eval(`[data-test-id=canvas-node][data-node-name="${nodeName}"]`, (element) => Boolean(element.querySelector('[data-test-id=canvas-node-status-success]')));
}

/** The items of the open node's output panel as its Table view shows them: column → cell text. */
async function outputRows(page: Page): Promise<Array<Record<string, string>>> {
	await page.waitForSelector('[data-test-id=output-panel] [data-test-id=radio-button-table]', { visible: true });
	await page.click('[data-test-id=output-panel] [data-test-id=radio-button-table]');
	await page.waitForSelector('[data-test-id=output-panel] table tbody tr', { visible: true });
	return page.$eval('[data-test-id=output-panel] table', (table) => {
		const headers = Array.from(table.querySelectorAll('thead th')).map((th) => (th as HTMLElement).innerText.trim());
		return Array.from(table.querySelectorAll('tbody tr')).map((row) => {
			const cells = Array.from(row.querySelectorAll(':scope > td')).map((td) => (td as HTMLElement).innerText.trim());
			return Object.fromEntries(headers.map((header, index) => [header, cells[index] ?? '']).filter(([header]) => header !== ''));
		});
	});
}
