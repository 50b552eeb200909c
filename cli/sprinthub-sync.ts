/**
 * `sprinthub-sync`: the command line entry (bundled to dist/cli/sprinthub-sync.js with a shebang).
 *
 * Ctrl-C once: the running syncs stop at the next safe point, checkpoint and are recorded as
 * cancelled; Ctrl-C again: exit at once (the leases expire and the next run resumes).
 */
import { EXIT } from './errors';
import { lastResortLine } from './lastResort';
import { runCli } from './main';

const argv = process.argv.slice(2);

/** Whatever escapes: one redacted line, no stack (a stack would print the message, secrets and all). */
function lastResort(error: unknown): void {
	process.stderr.write(lastResortLine(error, argv, process.env));
	process.exit(EXIT.failure);
}
process.on('uncaughtException', lastResort);
process.on('unhandledRejection', lastResort);

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

runCli(argv, {
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
	// runCli reports its own errors; this is the last resort.
	lastResort,
);
