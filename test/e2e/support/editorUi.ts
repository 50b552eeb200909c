/**
 * What a person does in the n8n editor (1.123 and 2.41), as page actions: set up the owner, create a
 * credential, import a workflow file, open and close a node, read its credential fields, pick one, run
 * the workflow, read the output table. Each action ends by waiting on what the editor shows next, never
 * on a fixed time. The data-test-id attributes are n8n's own (its Playwright tests use them).
 */
import * as fs from 'node:fs';

import type { ElementHandle, Page } from 'puppeteer-core';

import { clickText, visibleText, waitForText, waitUntil, waitUntilStill } from './browser';

export const owner = { email: 'owner@example.test', firstName: 'Ada', lastName: 'Owner', password: 'E2e-owner-password-1' };

function assert(condition: unknown, message: string): asserts condition {
	if (!condition) throw new Error(message);
}

/** n8n answers readiness before it has written the editor's files; wait until `/` serves them. */
export async function waitForEditorFiles(baseUrl: string): Promise<void> {
	await waitUntil(
		async () => {
			const status = await fetch(baseUrl, { headers: { accept: 'text/html' } }).then(
				(response) => response.status,
				() => 0,
			);
			return status === 200 ? true : undefined;
		},
		`${baseUrl} serves the editor`,
	);
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

/**
 * Credentials → Create credential → search the type → Continue: the new credential's modal. On a loaded
 * machine the type list can re-render under the click and another type opens; then, as a person would,
 * this closes it and starts again (up to four times).
 */
export async function openNewCredential(page: Page, baseUrl: string, typeName: string): Promise<void> {
	const attempts = 4;
	for (let attempt = 1; ; attempt++) {
		await page.goto(`${baseUrl}/home/credentials`, { waitUntil: 'domcontentloaded' });
		await page.waitForSelector('[data-test-id=add-resource-credential]', { visible: true });
		await page.click('[data-test-id=add-resource-credential]');
		const input = '[data-test-id=new-credential-type-select] input';
		await page.waitForSelector(input, { visible: true });
		await page.click(input);
		await page.keyboard.sendCharacter(typeName);
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
		// The list can re-render under the click and select a neighbour (CI saw "Snowflake OAuth2 API"
		// chosen for "SprintHub API"): go on only once the select shows this type, else start again.
		if (!(await selectShows(page, '[data-test-id=new-credential-type-select]', typeName))) {
			if (attempt === attempts) throw new Error(`the ${typeName} credential type could not be selected in ${attempts} tries`);
			continue;
		}
		await page.waitForFunction(() => !(document.querySelector('[data-test-id=new-credential-type-button]') as HTMLButtonElement | null)?.disabled, { timeout: 15_000 });
		// A click on Continue while the type list is still closing only closes the list (n8n 2 under load:
		// the modal never opened in 60 s); click it again while it is still there and nothing opened.
		const opened = await waitUntil(
			async () => {
				if (await page.$('[data-test-id=editCredential-modal] [data-test-id=credential-save-button]')) return true;
				const button = await page.$('[data-test-id=new-credential-type-button]');
				if (button && (await button.isVisible())) await button.click().catch(() => undefined);
				return (await page.waitForSelector('[data-test-id=editCredential-modal] [data-test-id=credential-save-button]', { visible: true, timeout: 5_000 }).catch(() => null)) ? true : undefined;
			},
			'the credential modal opens',
			60_000,
		).catch(() => false);
		const title = opened ? await visibleText(page, '[data-test-id=editCredential-modal]') : '';
		if (title.includes(typeName)) return;
		if (attempt === attempts) throw new Error(`the ${typeName} credential did not open (${opened ? `it opened ${title.split('\n')[0]}` : 'nothing opened'})`);
		await page.keyboard.press('Escape');
		await page.waitForSelector('[data-test-id=editCredential-modal]', { hidden: true, timeout: 10_000 }).catch(() => undefined);
	}
}

/**
 * Whether the select shows `label` as its choice within a few seconds: n8n 1.x writes the choice into
 * the select's input, 2.x shows it as text beside an empty input.
 */
async function selectShows(page: Page, selector: string, label: string): Promise<boolean> {
	return waitUntil(
		async () => {
			const shown = await page
				.$eval(selector, (element) => [(element as HTMLElement).innerText.trim(), (element.querySelector('input') as HTMLInputElement | null)?.value.trim() ?? ''])
				.catch(() => [] as string[]);
			return shown.includes(label) ? true : undefined;
		},
		`the select shows ${label}`,
		5_000,
	).then(
		() => true,
		() => false,
	);
}

export async function renameCredential(page: Page, newName: string): Promise<void> {
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
export async function saveAndReadTest(page: Page, expected: string): Promise<string> {
	const modal = '[data-test-id=editCredential-modal]';
	await page.click(`${modal} [data-test-id=credential-save-button]`);
	let last = '';
	try {
		return await waitUntil(async () => {
			last = await visibleText(page, modal);
			if (last.includes(expected)) return last;
			if (last.includes('More details')) await clickText(page, `${modal} a, ${modal} span`, 'More details', 5_000).catch(() => undefined);
			return undefined;
		}, `the credential test shows "${expected}"`);
	} catch (error) {
		throw new Error(`${(error as Error).message}:\n${last.slice(0, 1500)}`);
	}
}

export async function closeCredentialModal(page: Page): Promise<void> {
	await page.keyboard.press('Escape');
	await page.waitForSelector('[data-test-id=editCredential-modal]', { hidden: true });
}

/** Whether this editor saves every change by itself (2.x) rather than with a Save button (1.x). */
async function savesByItself(page: Page): Promise<boolean> {
	return (await page.$('[data-test-id=workflow-save-button]')) === null;
}

/** Save (1.x) and wait for "Saved"; 2.x has no Save button. */
export async function saveWorkflow(page: Page): Promise<void> {
	const button = await page.$('[data-test-id=workflow-save-button]');
	if (!button) return;
	const text = (await button.evaluate((element) => (element as HTMLElement).innerText)).trim();
	if (text === 'Saved') return;
	await button.click();
	await waitForText(page, '[data-test-id=workflow-save-button]', 'Saved');
}

/**
 * Opens the workflow menu and returns its "Import from File…" item (2.x: Import → From file), at rest.
 * On a loaded machine the editor can draw the menu button before it answers clicks (CI saw the menu
 * never open), so a menu that does not open within a few seconds is closed and clicked again. On
 * failure the error names what the page showed instead (a dialog in the way, say).
 */
async function openImportFromFile(page: Page): Promise<ElementHandle<Element>> {
	const importItems = '[data-test-id=workflow-menu-item-import], [data-test-id=workflow-menu-item-import-from-file]';
	let attempts = 0;
	try {
		return await waitUntil(
			async () => {
				attempts += 1;
				await page.click('[data-test-id=workflow-menu]');
				const submenu = await page.waitForSelector(importItems, { visible: true, timeout: 5_000 }).catch(() => null);
				if (!submenu) {
					await page.keyboard.press('Escape');
					return undefined;
				}
				if ((await submenu.evaluate((element) => element.getAttribute('data-test-id'))) === 'workflow-menu-item-import') await submenu.hover();
				const item = await page.waitForSelector('[data-test-id=workflow-menu-item-import-from-file]', { visible: true, timeout: 5_000 }).catch(() => null);
				if (!item) {
					await page.keyboard.press('Escape');
					return undefined;
				}
				// The menu slides in; a click while it moves can miss.
				await waitUntilStill(item);
				return item;
			},
			'the workflow menu shows Import from File',
			60_000,
		);
	} catch (error) {
		const inTheWay = await page
			.$$eval('.el-message-box, .el-dialog, [role=dialog], .el-overlay', (elements) =>
				elements
					.filter((element) => (element as HTMLElement).offsetParent !== null || getComputedStyle(element).position === 'fixed')
					.map((element) => (element as HTMLElement).innerText.trim().slice(0, 300))
					.filter(Boolean),
			)
			.catch(() => [] as string[]);
		throw new Error(`${(error as Error).message} (${attempts} clicks on the menu; dialogs on the page: ${inTheWay.length ? inTheWay.join(' | ') : 'none'}; at ${page.url()})`);
	}
}

/**
 * A new workflow, then the workflow menu → Import from File… (2.x: Import → From file) → the file;
 * saved with Save (1.x) or by n8n itself (2.x saves every change).
 */
export async function importWorkflowFile(page: Page, baseUrl: string, file: string): Promise<void> {
	await page.goto(`${baseUrl}/workflow/new`, { waitUntil: 'domcontentloaded' });
	await page.waitForSelector('[data-test-id=workflow-menu]', { visible: true });
	const autosaved = (await savesByItself(page))
		? page.waitForResponse((response) => /^\/rest\/workflows(\/[^/]+)?$/.test(new URL(response.url()).pathname) && ['POST', 'PATCH'].includes(response.request().method()), { timeout: 60_000 })
		: null;
	const item = await openImportFromFile(page);
	const [chooser] = await Promise.all([page.waitForFileChooser({ timeout: 10_000 }), item.click()]);
	await chooser.accept([file]);
	await page.waitForSelector('[data-test-id=canvas-node]', { visible: true });
	// The editor takes the workflow's name from the file a moment after drawing its nodes; saved before
	// that, n8n 1.123 kept "My workflow". The header shows the name.
	const { name } = JSON.parse(fs.readFileSync(file, 'utf8')) as { name: string };
	await page.waitForFunction(
		(expected) => {
			const header = document.querySelector('[data-test-id=workflow-name-input]') as HTMLElement | null;
			return Boolean(header && (header.innerText.includes(expected) || (header.querySelector('input') as HTMLInputElement | null)?.value === expected));
		},
		{ timeout: 30_000 },
		name,
	);
	if (autosaved) {
		const response = await autosaved;
		assert(response.ok(), `n8n saved the imported workflow (${response.status()})`);
	} else await saveWorkflow(page);
	await page.waitForFunction(() => /^\/workflow\/[A-Za-z0-9]+$/.test(location.pathname) && !location.pathname.endsWith('/new'));
}

/** Drags a node a little and saves the workflow (2.x: waits until n8n has saved it by itself). */
export async function moveNodeAndSave(page: Page, nodeName: string): Promise<void> {
	const autosaved = (await savesByItself(page))
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

/** Opens a workflow from the Overview list by its name; waits until its nodes are drawn. */
export async function openWorkflow(page: Page, baseUrl: string, workflowName: string): Promise<void> {
	await page.goto(`${baseUrl}/home/workflows`, { waitUntil: 'domcontentloaded' });
	await page.waitForSelector('[data-test-id=workflow-card-name]', { visible: true });
	await clickText(page, '[data-test-id=workflow-card-name]', workflowName);
	await page.waitForFunction(() => /^\/workflow\/[A-Za-z0-9]+$/.test(location.pathname), { timeout: 30_000 });
	await page.waitForSelector('[data-test-id=canvas-node]', { visible: true });
	await canvasAtRest(page);
}

/**
 * The canvas as it stays: the same nodes, subtitles and issue markers on two looks in a row (the
 * editor draws the nodes first, then their subtitles and issues once it has loaded what they need).
 */
async function canvasAtRest(page: Page): Promise<void> {
	let previous = '';
	await waitUntil(
		async () => {
			const now = await page.$$eval('[data-test-id=canvas-node]', (elements) =>
				JSON.stringify(elements.map((element) => [(element as HTMLElement).innerText, Boolean(element.querySelector('[data-test-id=node-issues]'))])),
			);
			const same = now !== '[]' && now === previous;
			previous = now;
			return same ? true : undefined;
		},
		'the canvas comes to rest',
		30_000,
	);
}

export async function canvasNodeNames(page: Page): Promise<string[]> {
	return page.$$eval('[data-test-id=canvas-node]', (elements) =>
		elements
			.filter((element) => !element.querySelector('[data-test-id=sticky]'))
			.map((element) => element.getAttribute('data-node-name') ?? '')
			.filter(Boolean),
	);
}

/** Names of the canvas nodes that show n8n's issue marker, sorted (after the editor is quiet). */
export async function nodesWithIssues(page: Page): Promise<string[]> {
	await canvasAtRest(page);
	const names = await page.$$eval('[data-test-id=canvas-node]', (elements) =>
		elements.filter((element) => element.querySelector('[data-test-id=node-issues]')).map((element) => element.getAttribute('data-node-name') ?? ''),
	);
	return names.sort();
}

export async function canvasSubtitle(page: Page, nodeName: string): Promise<string> {
	const text = await page.$eval(`[data-test-id=canvas-node][data-node-name="${nodeName}"]`, (element) => (element as HTMLElement).innerText);
	const lines = text.split('\n').map((line) => line.trim()).filter(Boolean);
	return lines[lines.indexOf(nodeName) + 1] ?? '';
}

/**
 * Double-clicks a node on the canvas; waits until its panel shows the node's name and parameters. On a
 * loaded machine a double-click can reach the canvas while it still settles from the last panel; a
 * person would double-click again, and so does this (up to three times).
 */
export async function openNode(page: Page, nodeName: string): Promise<void> {
	for (let attempt = 1; ; attempt++) {
		const node = await page.waitForSelector(`[data-test-id=canvas-node][data-node-name="${nodeName}"]`, { visible: true });
		await node!.click({ count: 2 });
		const opened = await page.waitForSelector('[data-test-id=ndv] [data-test-id=node-parameters]', { visible: true, timeout: 15_000 }).then(
			() => true,
			() => false,
		);
		if (opened) break;
		if (attempt === 3) throw new Error(`the panel of ${nodeName} did not open after three double-clicks`);
	}
	await waitForText(page, '[data-test-id=ndv] [data-test-id=node-title-container]', nodeName, 15_000);
}

export async function closeNode(page: Page): Promise<void> {
	// 1.x: "Back to canvas"; 2.x: the panel's close button.
	const close = await page.waitForSelector('[data-test-id=back-to-canvas], [data-test-id=ndv-close-button]', { visible: true });
	await close!.click();
	await page.waitForSelector('[data-test-id=ndv] [data-test-id=node-parameters]', { hidden: true });
}

export interface CredentialField {
	label: string;
	value: string;
	issue: boolean;
}

/** The credential fields of the open node: label, the credential shown, whether it shows an issue. */
export async function credentialFields(page: Page): Promise<CredentialField[]> {
	await page.waitForSelector('[data-test-id=ndv] [data-test-id=node-credentials-select]', { visible: true });
	return page.$$eval('[data-test-id=ndv] [data-test-id=credentials-label]', (labels) =>
		labels.map((label) => {
			const select = label.querySelector('[data-test-id=node-credentials-select]');
			const input = select?.querySelector('input') as HTMLInputElement | null;
			const shown = (select?.querySelector('.el-select__selected-item:not(.is-transparent), .el-select__selection .el-select__selected-item span') as HTMLElement | null)?.innerText ?? input?.value ?? '';
			return {
				label: ((label.querySelector('label') ?? label) as HTMLElement).innerText.split('\n')[0].trim(),
				value: shown.trim(),
				// n8n marks a credential issue with a warning triangle next to the select (class hasIssues).
				issue: Boolean(label.querySelector('[class*=hasIssues]')),
			};
		}),
	);
}

export async function credentialValues(page: Page): Promise<string[][]> {
	return (await credentialFields(page)).map(({ label, value }) => [label, value]);
}

/** Opens the credential field labelled `label`, returns the credentials it offers, picks `credentialName`. */
export async function pickCredential(page: Page, label: string, credentialName: string): Promise<string[]> {
	let select: ElementHandle | null = null;
	for (const field of await page.$$('[data-test-id=ndv] [data-test-id=credentials-label]')) {
		const text = await field.evaluate((element) => ((element.querySelector('label') ?? element) as HTMLElement).innerText.split('\n')[0].trim());
		if (text === label) select = await field.$('[data-test-id=node-credentials-select]');
	}
	assert(select, `a credential field labelled ${label}`);
	await select.click();
	const listed = await waitUntil(async () => {
		const names = await page.$$eval('[data-test-id^=node-credentials-select-item-]', (items) =>
			items
				.filter((item) => (item as HTMLElement).offsetParent !== null && item.getAttribute('data-test-id') !== 'node-credentials-select-item-new')
				.map((item) => (item as HTMLElement).innerText.split('\n')[0].trim()),
		);
		return names.length > 0 ? names : undefined;
	}, `the ${label} list opens`);
	await clickText(page, '[data-test-id^=node-credentials-select-item-]', new RegExp(`^${credentialName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`));
	await waitUntil(async () => ((await credentialValues(page)).some(([field, value]) => field === label && value === credentialName) ? true : undefined), `${label} shows ${credentialName}`, 15_000);
	return listed;
}

/** The node creator: search `search`, open the node, pick the action `action`; the new node's panel opens. */
export async function addNodeWithAction(page: Page, search: string, action: string): Promise<void> {
	const plus = await page.waitForSelector('[data-test-id=node-creator-plus-button]', { visible: true });
	await plus!.click();
	await page.waitForSelector('[data-test-id=node-creator-search-bar]', { visible: true });
	await page.type('[data-test-id=node-creator-search-bar]', search);
	await clickText(page, '[data-test-id=item-iterator-item]', /SprintHub Segment Sync/);
	await clickText(page, '[data-test-id=item-iterator-item]', action);
	await page.waitForSelector('[data-test-id=ndv] [data-test-id=node-parameters]', { visible: true });
	await page.waitForSelector('[data-test-id=ndv] [data-test-id=node-credentials-select]', { visible: true });
}

/** The items of an open resource-locator list, once at least `count` are shown (or its error). */
export async function waitForListItems(page: Page, count: number): Promise<string[]> {
	return waitUntil(async () => {
		const error = await visibleText(page, '[data-test-id=rlc-error-container]');
		if (error) throw new Error(`the list shows an error: ${error}`);
		const items = await page.$$eval('[data-test-id=rlc-item]', (elements) =>
			elements.filter((element) => (element as HTMLElement).offsetParent !== null).map((element) => (element as HTMLElement).innerText.trim()),
		);
		return items.length >= count ? items : undefined;
	}, `the list shows ${count} items`, 30_000);
}

/** The middle panel of the open node (title, tabs, parameters), for a README image. */
export async function ndvParametersPanel(page: Page): Promise<ElementHandle | null> {
	const handle = await page.evaluateHandle(() => {
		let panel = document.querySelector('[data-test-id=ndv] [data-test-id=node-parameters]') as HTMLElement | null;
		while (panel && !panel.querySelector('[data-test-id=node-title-container]')) panel = panel.parentElement;
		return panel;
	});
	return handle.asElement() as ElementHandle | null;
}

/**
 * Runs the workflow as a person does: the canvas's Execute workflow button, after choosing
 * `triggerName` in the button's menu when the workflow has several triggers and the editor chose
 * another (n8n prefers a Schedule Trigger over a Manual Trigger). Waits until n8n has recorded one
 * more execution and the button no longer says it is running.
 */
export async function executeWorkflow(page: Page, executionCount: () => Promise<number>, triggerName: string): Promise<void> {
	const before = await executionCount();
	const button = '[data-test-id=execute-workflow-button]';
	await page.waitForSelector(button, { visible: true });
	const chooser = await page.$('[aria-label="Select trigger node"]');
	if (chooser && !(await visibleText(page, button)).includes(triggerName)) {
		await chooser.click();
		await clickText(page, '.el-dropdown-menu__item, [role=menuitem]', new RegExp(triggerName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
		await waitForText(page, button, triggerName, 15_000);
	}
	// A click that lands while the canvas settles after the node panel closed starts nothing (n8n 1.123
	// showed only the button's tooltip); a person clicks again when nothing happens.
	for (let attempt = 1; ; attempt++) {
		await page.click(button);
		const started = await waitUntil(
			async () => ((await executionCount()) > before || /Executing|Waiting/.test(await visibleText(page, button)) ? true : undefined),
			'the workflow run starts',
			15_000,
		).then(
			() => true,
			() => false,
		);
		if (started) break;
		if (attempt === 3) throw new Error('Execute workflow started no run after three clicks');
	}
	await waitUntil(
		async () => ((await executionCount()) > before && !/Executing|Waiting/.test(await visibleText(page, button)) ? true : undefined),
		'the workflow run ends',
		120_000,
	);
}

export async function nodeSucceeded(page: Page, nodeName: string): Promise<boolean> {
	return page.$eval(`[data-test-id=canvas-node][data-node-name="${nodeName}"]`, (element) => Boolean(element.querySelector('[data-test-id=canvas-node-status-success]')));
}

/** The items of the open node's output panel as its Table view shows them: column → cell text. */
export async function outputRows(page: Page): Promise<Array<Record<string, string>>> {
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
