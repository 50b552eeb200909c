/**
 * What the e2e entry scripts run on their own (editor.e2e.ts, queue-sync.e2e.ts) share: named checks
 * with their outcome printed as they end, their command-line flags, and the closing
 * `N passed, N failed` line that .ci/run and a person read.
 */
import { n8nInstallation, type N8nMajor } from './paths';

export interface ScriptChecks {
	check: (name: string, body: () => Promise<void>) => Promise<boolean>;
	timings: string[];
	/** Prints the timings and the closing line; sets the exit code (no check run is a failure). */
	finish: (started: number) => void;
}

export function scriptChecks(): ScriptChecks {
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
	function finish(started: number): void {
		const failed = outcomes.filter((ok) => !ok).length;
		console.log(`\n${timings.join('\n')}\ntotal ${((Date.now() - started) / 1000).toFixed(1)} s`);
		console.log(`${outcomes.length - failed} passed, ${failed} failed`);
		process.exitCode = failed === 0 && outcomes.length > 0 ? 0 : 1;
	}
	return { check, timings, finish };
}

export function argument(flag: string): string | undefined {
	const index = process.argv.indexOf(flag);
	return index === -1 ? undefined : process.argv[index + 1];
}

/** `--n8n 1|2|both` (default both); each version must be installed. */
export function majorsFromArguments(): N8nMajor[] {
	const which = argument('--n8n') ?? 'both';
	const majors: N8nMajor[] = which === '1' ? [1] : which === '2' ? [2] : which === 'both' ? [1, 2] : [];
	if (majors.length === 0) throw new Error(`--n8n must be 1, 2 or both, not ${which}`);
	for (const major of majors) n8nInstallation(major);
	return majors;
}
