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
import { buildAndPackPackage } from './support/installPackage';
import { argument, majorsFromArguments, scriptChecks } from './support/script';

const { check, timings, finish } = scriptChecks();

async function main(): Promise<void> {
	const majors = majorsFromArguments();
	const readmeImages = argument('--readme-images');
	const started = Date.now();
	const packDir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-editor-pack-'));
	try {
		let tarball = argument('--tarball') ?? '';
		if (!tarball) {
			await check('build and pack the package', async () => {
				tarball = await buildAndPackPackage(packDir);
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
	finish(started);
}

main().catch((error: unknown) => {
	console.error(error);
	console.log('0 passed, 1 failed');
	process.exitCode = 1;
});
