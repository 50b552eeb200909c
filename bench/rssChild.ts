/**
 * The measured process of the memory benchmark: runs one sync (or nothing, for the baseline) and
 * prints its peak resident set size. Started by bench/rss.ts with its configuration in BENCH_RSS_CONFIG.
 */
import { readFileSync } from 'node:fs';
import { SyncEngine, closeSprintHubAccounts, type EnrichmentMode } from '../engine';

interface ChildConfig {
	idle?: boolean;
	supabaseUrl: string;
	serviceRoleKey: string;
	baseUrl: string;
	instance: string;
	token: string;
	segmentId: number;
	enrichment: EnrichmentMode;
}

function peakRss(): { vmHwmMb: number; maxRssMb: number } {
	const status = readFileSync('/proc/self/status', 'utf8');
	const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
	return {
		vmHwmMb: hwm ? Math.round(Number(hwm[1]) / 1024) : -1,
		maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
	};
}

async function main(): Promise<void> {
	const config = JSON.parse(process.env.BENCH_RSS_CONFIG ?? '{}') as ChildConfig;
	let summary: Record<string, unknown> = {};
	if (!config.idle) {
		const engine = new SyncEngine({
			sprinthub: { baseUrl: config.baseUrl, instance: config.instance, token: config.token, requestsPerMinute: 1_000_000 },
			supabase: { url: config.supabaseUrl, serviceRoleKey: config.serviceRoleKey },
		});
		const started = Date.now();
		const [result] = await engine.syncSegments([config.segmentId], { trigger: 'cli', enrichment: config.enrichment });
		summary = {
			status: result.status,
			message: result.message,
			leadsSeen: result.stats.leadsSeen,
			pages: result.stats.pages,
			detailCalls: result.stats.detailCalls,
			inserted: result.stats.inserted,
			updated: result.stats.updated,
			durationMs: Date.now() - started,
		};
		await engine.close();
		await closeSprintHubAccounts();
	}
	process.stdout.write(`${JSON.stringify({ ...summary, ...peakRss() })}\n`);
}

main().catch((error: unknown) => {
	process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
	process.exit(1);
});
