/**
 * A real browser on the n8n editor: Debian's `chromium` driven by puppeteer-core (which downloads no
 * browser), headless, a fresh profile per session, loopback only. Records every browser console error,
 * uncaught page error, failed request and HTTP error response, tells n8n's own offline noise from the
 * rest (problems()), and saves numbered screenshots of the steps into one folder.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import puppeteer, { type Browser, type ElementHandle, type Page } from 'puppeteer-core';

import { chromiumPath } from '../../support/chromium';

export interface BrowserProblem {
	kind: 'console' | 'exception' | 'http' | 'request-failed';
	text: string;
	url?: string;
}

/**
 * What the n8n editor itself reports on an offline machine without a licence, whatever package is
 * installed. Each entry says why it is n8n's and not the package's. Anything else is a problem.
 */
const n8nOfflineNoise: Array<{ why: string; matches: (problem: BrowserProblem) => boolean }> = [
	{
		// The editor calls api.n8n.io and other hosts (templates, banners, news, and registry.npmjs.org
		// for a community node's package details); this machine has no network, so those requests fail
		// and the editor logs that it could not reach them.
		why: 'n8n calls a host other than this machine (no network here)',
		matches: (problem) => problem.url !== undefined && !isLoopback(problem.url),
	},
	{
		why: 'n8n logs that it could not fetch its banners from api.n8n.io',
		matches: (problem) => problem.kind === 'console' && /^Failed to fetch dynamic banners/.test(problem.text),
	},
	{
		// Before the owner exists and before sign-in, the editor asks who is logged in and gets 401.
		why: 'n8n asks for the current user before sign-in',
		matches: (problem) => problem.url !== undefined && /\/rest\/login$/.test(new URL(problem.url).pathname) && /\b401\b/.test(problem.text),
	},
	{
		// The AI assistant's sessions are a licensed feature; without a licence n8n answers 403 and logs it.
		why: 'n8n asks for AI assistant sessions, an unlicensed feature',
		matches: (problem) =>
			(problem.url !== undefined && new URL(problem.url).pathname === '/rest/ai/sessions/metadata' && /\b403\b/.test(problem.text)) ||
			(problem.kind === 'console' && /^Failed to fetch sessions metadata: ResponseError: Plan lacks license/.test(problem.text)),
	},
	{
		// Right after the owner signs up, n8n 1.123's editor checks for new versions before it has read
		// the version-notification settings (its versions store), and throws in its own code.
		why: 'n8n reads its version-notification settings before they are loaded',
		matches: (problem) =>
			problem.kind === 'exception' && /^TypeError: Cannot read properties of undefined \(reading 'enabled'\)/.test(problem.text) && problem.text.includes('/assets/versions.store-'),
	},
	{
		// n8n 2.41's editor warns (as a console error) that its node-panel store was read while no
		// workflow document was loaded, when it goes from the workflow list to a workflow.
		why: 'n8n 2.x reads its node-panel store before a workflow is loaded',
		matches: (problem) => problem.kind === 'console' && problem.text.startsWith('Error: injectNDVStore() was accessed without an active workflow document store'),
	},
	{
		// Opening a workflow, the editor asks for its last successful execution; none yet answers 404.
		why: 'n8n asks for the last successful execution of a workflow that has none',
		matches: (problem) => problem.url !== undefined && /^\/rest\/workflows\/[^/]+\/executions\/last-successful$/.test(new URL(problem.url).pathname) && /\b404\b/.test(problem.text),
	},
	{
		// For the input/output "schema" preview the editor asks every node type for an optional schema
		// file (/schemas/<type>/<version>[/<resource>/<operation>].json); node types without one, n8n's
		// own If node among them, answer 404 and the editor does without.
		why: 'n8n asks for an optional output-schema file that the node type does not ship',
		matches: (problem) => problem.url !== undefined && /^\/schemas\/.+\.json$/.test(new URL(problem.url).pathname) && /\b404\b/.test(problem.text),
	},
	{
		// External secrets is an enterprise feature; without a licence the endpoint answers 404.
		why: 'n8n asks for external secrets, an unlicensed enterprise feature',
		matches: (problem) => problem.url !== undefined && new URL(problem.url).pathname.startsWith('/rest/external-secrets/') && /\b404\b/.test(problem.text),
	},
];

function isLoopback(url: string): boolean {
	try {
		const { hostname, protocol } = new URL(url);
		if (protocol === 'data:' || protocol === 'blob:' || protocol === 'about:') return true;
		return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
	} catch {
		return true;
	}
}

export class EditorBrowser {
	readonly screenshotDir: string;
	private readonly recorded: BrowserProblem[] = [];
	private shotNumber = 0;

	private constructor(
		readonly browser: Browser,
		readonly page: Page,
		private readonly profileDir: string,
		screenshotDir: string,
	) {
		this.screenshotDir = screenshotDir;
		page.on('console', (message) => {
			if (message.type() !== 'error') return;
			const url = message.location()?.url;
			this.recorded.push({ kind: 'console', text: message.text(), ...(url ? { url } : {}) });
		});
		page.on('pageerror', (error) => this.recorded.push({ kind: 'exception', text: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
		page.on('requestfailed', (request) => {
			// An aborted request is the editor cancelling it (navigation, a newer search), not a failure.
			const reason = request.failure()?.errorText ?? 'failed';
			if (reason === 'net::ERR_ABORTED') return;
			this.recorded.push({ kind: 'request-failed', text: `${request.method()} ${reason}`, url: request.url() });
		});
		page.on('response', (response) => {
			if (response.status() < 400) return;
			this.recorded.push({ kind: 'http', text: `${response.request().method()} ${response.status()}`, url: response.url() });
		});
	}

	/** Starts Chromium headless with a fresh profile; screenshots go to `screenshotDir` (emptied). */
	static async launch(screenshotDir: string): Promise<EditorBrowser> {
		fs.rmSync(screenshotDir, { recursive: true, force: true });
		fs.mkdirSync(screenshotDir, { recursive: true });
		const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-chromium-'));
		const browser = await puppeteer.launch({
			executablePath: chromiumPath(),
			headless: true,
			// The flags keep an offline, shared machine quiet: no sandbox (CI runs as root), no GPU, no
			// first-run, sync, component-update or background calls (they would flood refused connections).
			args: [
				'--headless=new',
				'--no-sandbox',
				'--disable-gpu',
				'--no-first-run',
				'--disable-background-networking',
				'--disable-component-update',
				'--disable-sync',
				`--user-data-dir=${profileDir}`,
				'--window-size=1440,900',
				'--lang=en-US',
			],
			defaultViewport: { width: 1440, height: 900 },
			protocolTimeout: 120_000,
		});
		const [page] = await browser.pages();
		page.setDefaultTimeout(60_000);
		return new EditorBrowser(browser, page, profileDir, screenshotDir);
	}

	/** Everything recorded so far that is not n8n's own offline noise. */
	problems(): BrowserProblem[] {
		return this.recorded.filter((problem) => !n8nOfflineNoise.some((noise) => noise.matches(problem)) && !this.duplicateOfResponse(problem));
	}

	/** Everything recorded, with the reason when it was taken for n8n's own noise (for the log). */
	allRecorded(): Array<BrowserProblem & { ignoredBecause?: string }> {
		return this.recorded.map((problem) => {
			const noise = n8nOfflineNoise.find((candidate) => candidate.matches(problem));
			return noise ? { ...problem, ignoredBecause: noise.why } : problem;
		});
	}

	/**
	 * Chrome logs "Failed to load resource: …" for every failed request; the response or failure
	 * itself is recorded with its URL and judged there, so the console line is not judged twice.
	 */
	private duplicateOfResponse(problem: BrowserProblem): boolean {
		if (problem.kind !== 'console' || !problem.text.startsWith('Failed to load resource:') || !problem.url) return false;
		return this.recorded.some((other) => (other.kind === 'http' || other.kind === 'request-failed') && other.url === problem.url);
	}

	/** Saves a screenshot of the page (or of one element) as NN-<name>.png; returns its path. */
	async shot(name: string, element?: ElementHandle | null): Promise<string> {
		const file = path.join(this.screenshotDir, `${String(++this.shotNumber).padStart(2, '0')}-${name}.png`);
		if (element) await element.screenshot({ path: file as `${string}.png` });
		else await this.page.screenshot({ path: file as `${string}.png` });
		return file;
	}

	async close(): Promise<void> {
		await this.browser.close().catch(() => undefined);
		fs.rmSync(this.profileDir, { recursive: true, force: true });
	}
}

/** Between two looks at the page while waiting for a condition (never a wait on its own). */
const pollMs = 100;

function pause(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits until `probe` returns something other than undefined (the condition holds) and returns it;
 * throws with `describe(last)` after `timeoutMs`. The one way this suite waits: on a condition.
 */
export async function waitUntil<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await probe();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
		await pause(pollMs);
	}
}

/** Waits until an element stops moving (a menu sliding in, a panel opening): the same box twice in a row. */
export async function waitUntilStill(element: ElementHandle, timeoutMs = 10_000): Promise<void> {
	let previous = '';
	await waitUntil(
		async () => {
			const box = JSON.stringify(await element.boundingBox());
			const still = box !== 'null' && box === previous;
			previous = box;
			return still ? true : undefined;
		},
		'the element came to rest',
		timeoutMs,
	);
}

/** The visible text of the first element matching `selector` ('' when there is none). */
export async function visibleText(page: Page, selector: string): Promise<string> {
	return page.$eval(selector, (element) => (element as HTMLElement).innerText).catch(() => '');
}

/** Waits until the visible text of `selector` contains `text` (a string or a pattern); returns that text. */
export async function waitForText(page: Page, selector: string, text: string | RegExp, timeoutMs = 60_000): Promise<string> {
	let last = '';
	try {
		return await waitUntil(
			async () => {
				last = await visibleText(page, selector);
				return (typeof text === 'string' ? last.includes(text) : text.test(last)) ? last : undefined;
			},
			`${selector} shows ${String(text)}`,
			timeoutMs,
		);
	} catch (error) {
		throw new Error(`${(error as Error).message}; it shows:\n${last.slice(0, 2000)}`);
	}
}

/** Clicks the first visible element matching `selector` whose text is `text` (trimmed, exact) or matches it. */
export async function clickText(page: Page, selector: string, text: string | RegExp, timeoutMs = 30_000): Promise<void> {
	const target = await waitUntil(
		async () => {
			for (const element of await page.$$(selector)) {
				const label = (await element.evaluate((node) => (node as HTMLElement).innerText ?? '')).trim();
				const matches = typeof text === 'string' ? label === text : text.test(label);
				if (matches && (await element.isVisible())) return element;
			}
			return undefined;
		},
		`a visible ${selector} with text ${String(text)}`,
		timeoutMs,
	);
	await target.click();
}

/**
 * Replaces the value of an n8n parameter input (credential or node parameter) as a person pastes it:
 * selects what is there and inserts the new text in one input event. Typed key by key, n8n 1.123
 * re-renders the field after the first keystroke on a loaded machine and keeps only that character.
 */
export async function fillParameter(page: Page, name: string, value: string, scope = ''): Promise<void> {
	const selector = `${scope} [data-test-id=parameter-input-${name}] input`.trim();
	await page.waitForSelector(selector, { visible: true });
	await page.click(selector, { count: 3 });
	await page.keyboard.down('Control');
	await page.keyboard.press('KeyA');
	await page.keyboard.up('Control');
	await page.keyboard.sendCharacter(value);
	// n8n commits the value when the field loses focus.
	await page.keyboard.press('Tab');
	let shown = '';
	let looks = 0;
	await waitUntil(
		async () => {
			shown = await page.$eval(selector, (input) => (input as HTMLInputElement).value);
			looks = shown === value ? looks + 1 : 0;
			// Twice in a row: the field keeps it after n8n has re-rendered it.
			return looks >= 2 ? true : undefined;
		},
		`the field ${name} keeps the value`,
		10_000,
	).catch(() => {
		throw new Error(`the field ${name} shows ${JSON.stringify(shown.slice(0, 80))} after filling it`);
	});
}
