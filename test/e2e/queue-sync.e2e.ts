/**
 * The real package in n8n queue mode on its own (run.ts runs the same checks at its end):
 *   npx tsx test/e2e/queue-sync.e2e.ts [--n8n 1|2|both] [--tarball path/to/package.tgz]
 * Without --tarball it builds and packs the package first. Prints `N passed, N failed`; exits non-zero
 * on any failure. What it proves: queueSync.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { buildAndPackPackage } from './support/installPackage';
import { argument, majorsFromArguments, scriptChecks } from './support/script';
import { runQueueSync } from './queueSync';

const { check, timings, finish } = scriptChecks();

async function main(): Promise<void> {
	const majors = majorsFromArguments();
	const started = Date.now();
	const packDir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-queue-pack-'));
	try {
		let tarball = argument('--tarball') ?? '';
		if (!tarball) {
			await check('build and pack the package', async () => {
				tarball = await buildAndPackPackage(packDir);
			});
		}
		if (tarball) {
			for (const major of majors) {
				console.log(`\nn8n ${major}.x queue mode`);
				await runQueueSync(major, path.resolve(tarball), check, timings);
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
