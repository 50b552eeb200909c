import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real browser without a driver: Debian's chromium, headless, asked for the DOM it built from a
 * file (and optionally a screenshot). No network: every background service is off, and the pages we
 * check forbid requests themselves.
 */
const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((path): path is string => Boolean(path));

export function chromiumPath(): string {
	const found = CANDIDATES.find((path) => existsSync(path));
	if (!found) throw new Error('Chromium is not installed: run "apt-get install -y chromium" (or set CHROMIUM_PATH); .ci/run installs it.');
	return found;
}

export interface BrowserView {
	/** The DOM after the page loaded, serialized. */
	dom: string;
	/** What the browser logged from the page (console messages, refused requests). */
	consoleLines: string[];
}

export async function openInChromium(file: string, options: { screenshot?: string; width?: number; height?: number } = {}): Promise<BrowserView> {
	const binary = chromiumPath();
	const profile = mkdtempSync(join(tmpdir(), 'report-chromium-'));
	const args = [
		'--headless=new',
		'--no-sandbox',
		'--disable-gpu',
		'--no-first-run',
		'--disable-background-networking',
		'--disable-component-update',
		'--disable-sync',
		'--disable-default-apps',
		'--enable-logging=stderr',
		'--v=0',
		`--user-data-dir=${profile}`,
		`--window-size=${options.width ?? 1280},${options.height ?? 2000}`,
		...(options.screenshot ? [`--screenshot=${options.screenshot}`] : ['--dump-dom']),
		`file://${file}`,
	];
	try {
		const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
			execFile(binary, args, { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 }, (error, stdout, stderr) => {
				if (error) reject(new Error(`chromium failed: ${error.message}\n${stderr.slice(-2000)}`));
				else resolve({ stdout, stderr });
			});
		});
		return { dom: stdout, consoleLines: stderr.split('\n').filter((line) => /CONSOLE|Refused to/.test(line)) };
	} finally {
		rmSync(profile, { recursive: true, force: true });
	}
}
