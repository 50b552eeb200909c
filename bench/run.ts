/**
 * npm run bench [-- db|calls|rss|compare ...]: runs the named benchmarks (all by default), each
 * printing its table and leaving its figures in bench/results/<name>.json. BENCHMARKS.md quotes them.
 *
 *   db       database upsert rate through PostgREST + supabase-js (benchmark 1)
 *   sync     API efficiency and wall time vs the budget bound (benchmarks 2 and 3; alias: calls, wall)
 *   rss      peak RSS of a sync process for segments of 10k to 200k leads (benchmark 4)
 *   compare  original approach vs n8n-style workflow vs this engine (benchmark 5)
 *   account  1, 2, 4 and 8 CLI processes sharing one account budget (benchmark 6)
 *   report   the sync health report for 200 segments × 90 days of run logs, read and rendered (benchmark 7)
 *   pipeline writes behind fetching: database-bound and budget-bound first loads (benchmark 8)
 *   n8n      a plain n8n workflow vs the package's node, both in a real n8n (benchmark 10)
 *   n8n-scale one 200,000-lead segment synced by the node in a real n8n (benchmark 11)
 *
 * n8n and n8n-scale need the pinned n8n installs (bash test/e2e/install-n8n.sh) and take minutes, so
 * they run only when named; they take --n8n 1|2 (n8n also both), --size N, and n8n-scale --rpm N.
 *
 * Set DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/test) to use a running PostgreSQL;
 * without it an embedded PostgreSQL is started for each benchmark.
 */
import { benchAccountBudget } from './accountBudget';
import { benchCompare } from './compare';
import { benchDatabase } from './db';
import { benchN8nCompare } from './n8n/compare';
import { benchN8nScale } from './n8n/scale';
import { benchReport } from './report';
import { benchRss } from './rss';
import { benchSync } from './sync';
import { benchWriteBehind } from './writeBehind';
import { machine } from './support';

const BENCHMARKS: Record<string, () => Promise<unknown>> = {
	db: benchDatabase,
	sync: benchSync,
	rss: benchRss,
	compare: benchCompare,
	account: benchAccountBudget,
	report: benchReport,
	pipeline: benchWriteBehind,
	n8n: benchN8nCompare,
	'n8n-scale': benchN8nScale,
};
/** Run only when named: they need a real n8n install and take many minutes. */
const ON_REQUEST = new Set(['n8n', 'n8n-scale']);
const ALIASES: Record<string, string> = { calls: 'sync', wall: 'sync', efficiency: 'sync', memory: 'rss', dashboard: 'report', writeBehind: 'pipeline' };

async function main(): Promise<void> {
	// Names, without the options of the n8n benchmarks (--flag value).
	const args = process.argv.slice(2);
	const asked = args.filter((arg, index) => !arg.startsWith('--') && !args[index - 1]?.startsWith('--')).map((name) => ALIASES[name] ?? name);
	const unknown = asked.filter((name) => !BENCHMARKS[name]);
	if (unknown.length) throw new Error(`unknown benchmark ${unknown.join(', ')}; choose from ${Object.keys(BENCHMARKS).join(', ')}`);
	const names = asked.length ? [...new Set(asked)] : Object.keys(BENCHMARKS).filter((name) => !ON_REQUEST.has(name));
	process.stdout.write(`machine: ${JSON.stringify(machine())}\n`);
	for (const name of names) {
		const started = Date.now();
		process.stdout.write(`\n=== ${name} ===\n`);
		await BENCHMARKS[name]();
		process.stdout.write(`(${name}: ${Math.round((Date.now() - started) / 1000)} s)\n`);
	}
}

main().catch((error: unknown) => {
	process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
	process.exit(1);
});
