/**
 * `sprinthub-sync`: the command line entry (bundled to dist/cli/sprinthub-sync.js with a shebang).
 *
 * Ctrl-C once: the running syncs stop at the next safe point, checkpoint and are recorded as
 * cancelled; Ctrl-C again: exit at once (the leases expire and the next run resumes).
 */
import { EXIT } from './errors';
import { runCli } from './main';

const controller = new AbortController();
let interrupts = 0;
const onSignal = (signal: NodeJS.Signals) => {
	interrupts += 1;
	if (interrupts === 1) {
		controller.abort();
		process.stderr.write(`\nsprinthub-sync: ${signal} received, stopping at the next checkpoint (press Ctrl-C again to quit at once).\n`);
		return;
	}
	process.exit(EXIT.cancelled);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

runCli(process.argv.slice(2), {
	stdout: process.stdout,
	stderr: process.stderr,
	env: process.env,
	cwd: process.cwd(),
	signal: controller.signal,
}).then(
	(code) => {
		process.exitCode = code;
		// Everything is closed by now; should a stray handle keep the loop alive, do not hang a cron job.
		setTimeout(() => process.exit(code), 3_000).unref();
	},
	(error: unknown) => {
		// runCli reports its own errors; this is a last resort that still prints no stack.
		process.stderr.write(`sprinthub-sync: ${error instanceof Error ? error.message : String(error)}\n`);
		process.exitCode = EXIT.failure;
	},
);
