/**
 * The editor in a real browser on its own (run.ts runs the same checks after each version's suite):
 *   npx tsx test/e2e/editor.e2e.ts [--n8n 1|2|both] [--tarball path/to/package.tgz] [--readme-images docs/images]
 * Without --tarball it builds and packs the package first. With --readme-images it also refreshes the
 * README's screenshots (npm run screenshots). Prints `N passed, N failed`; exits non-zero on any
 * failure. What it proves: editorBrowser.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { runEditorBrowser } from './editorBrowser';
import { packPackage } from './support/installPackage';
import { n8nInstallation, repoRoot, type N8nMajor } from './support/paths';
import { runCommand, tail } from './support/processes';

const outcomes: boolean[] = [];
const timings: string[] = [];

async function check(name: string, body: () => Promise<void>): Promise<boolean> {
	const started = Date.now();
	const took = () => ((Date.now() - started) / 1000).toFixed(1);
	try {
		await body();
		outcomes.push(true);
		console.log(`  ok   ${name} (${took()} s)`);
		return true;
	} catch (error) {
		outcomes.push(false);
		const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
		console.log(`  FAIL ${name} (${took()} s)\n${message.replace(/^/gm, '       ')}`);
		return false;
	}
}

function argument(flag: string): string | undefined {
	const index = process.argv.indexOf(flag);
	return index === -1 ? undefined : process.argv[index + 1];
}

async function main(): Promise<void> {
	const which = argument('--n8n') ?? 'both';
	const majors: N8nMajor[] = which === '1' ? [1] : which === '2' ? [2] : which === 'both' ? [1, 2] : [];
	if (majors.length === 0) throw new Error(`--n8n must be 1, 2 or both, not ${which}`);
	for (const major of majors) n8nInstallation(major);
	const readmeImages = argument('--readme-images');
	const started = Date.now();
	const packDir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-editor-pack-'));
	try {
		let tarball = argument('--tarball') ?? '';
		if (!tarball) {
			await check('build and pack the package', async () => {
				const build = await runCommand('npm', ['run', 'build'], { cwd: repoRoot, env: process.env, timeoutMs: 600_000 });
				if (build.code !== 0) throw new Error(`npm run build exited ${build.code}\n${tail(build.stdout + build.stderr, 40)}`);
				tarball = await packPackage(repoRoot, packDir);
			});
		}
		if (tarball) {
			for (const major of majors) {
				console.log(`\nn8n ${major}.x editor in a browser`);
				await runEditorBrowser(major, path.resolve(tarball), check, timings, readmeImages ? { readmeImagesDir: path.resolve(readmeImages) } : {});
			}
		}
	} finally {
		fs.rmSync(packDir, { recursive: true, force: true });
	}
	const failed = outcomes.filter((ok) => !ok).length;
	console.log(`\n${timings.join('\n')}\ntotal ${((Date.now() - started) / 1000).toFixed(1)} s`);
	console.log(`${outcomes.length - failed} passed, ${failed} failed`);
	process.exitCode = failed === 0 && outcomes.length > 0 ? 0 : 1;
}

main().catch((error: unknown) => {
	console.error(error);
	console.log('0 passed, 1 failed');
	process.exitCode = 1;
});
