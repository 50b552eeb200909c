/**
 * Benchmark 11 (issue 15, item 4): one 200,000-lead segment synced by the SprintHub Segment Sync node
 * inside a real n8n process (`n8n start`, the workflow's Schedule Trigger), first load.
 *
 *   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test npm run bench -- n8n-scale [--n8n 1|2] [--size 200000] [--rpm 80]
 *
 * The simulator's segment lists honour allFields=1 (list pages carry full records), so enrichment auto
 * syncs from pages of 1,000: about N/1,000 list calls plus the few detail calls of the capability check.
 * The simulator keeps SprintHub's own limit (100 calls a minute, sliding window); the node runs at its
 * default budget of 80 a minute, so the run takes about calls ÷ 80 minutes. Figures: peak RSS of the n8n
 * main process minus its idle RSS (goal < 300 MB), the size of the stored execution data (the node
 * returns one summary item), wall time against calls ÷ budget.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { SyncEngine } from '../../engine';
import { startSimulator } from '../../test/support/simulator';
import { startStack } from '../../test/support/stack';
import { buildAndPackPackage } from '../../test/e2e/support/installPackage';
import type { N8nInstance } from '../../test/e2e/support/n8nInstance';
import type { N8nMajor } from '../../test/e2e/support/paths';
import { printTable, round, saveResults, type Row } from '../support';
import { adaptWorkflow, preparedN8n, readBenchWorkflow, runScheduled } from './support';

const SEED = 4;
const SEGMENT = 4300;
/** A small segment of the same account, synced twice before the measured run (see learnAccount). */
const LEARNING_SEGMENT = 4301;
const LATENCY_MS = 50;
const RSS_GOAL_MB = 300;

/**
 * An account is checked for complete list records only once its custom fields are known from stored
 * records: a fresh database's first sync makes detail calls, the next one checks the lists. A user with a
 * 200,000-lead segment has synced before; here a 300-lead segment of the same account is synced twice by
 * the engine (outside n8n, without a rate limit), so the measured run starts with the account's lists known complete.
 */
async function learnAccount(stack: Awaited<ReturnType<typeof startStack>>, sim: Awaited<ReturnType<typeof startSimulator>>): Promise<void> {
	await stack.query('select sync_add_segment($1, $2)', [LEARNING_SEGMENT, 'Bench learning']);
	const engine = new SyncEngine({
		sprinthub: { baseUrl: sim.baseUrl, instance: sim.instance, token: sim.token, requestsPerMinute: 60_000 },
		supabase: { url: stack.supabaseUrl, serviceRoleKey: stack.serviceRoleKey },
	});
	// Unthrottled while learning; SprintHub's limit again for the measured run (setRateLimit forgets the window).
	sim.setRateLimit(null);
	try {
		for (let run = 0; run < 2; run++) await engine.syncSegments([LEARNING_SEGMENT], { trigger: 'cli', enrichment: 'auto' });
	} finally {
		await engine.close();
		sim.setRateLimit({ requests: 100, windowMs: 60_000, mode: '401' });
	}
	const [known] = await stack.query<{ list_complete: boolean }>('select list_complete from sync_list_capabilities');
	if (!known?.list_complete) throw new Error('the account was not learned as carrying full list records');
}

function argument(name: string): string | undefined {
	const index = process.argv.indexOf(`--${name}`);
	return index === -1 ? undefined : process.argv[index + 1];
}

export async function benchN8nScale(): Promise<Row[]> {
	const major = Number(argument('n8n') ?? '1') as N8nMajor;
	const size = Number(argument('size') ?? 200_000);
	const budget = Number(argument('rpm') ?? 80);
	const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-n8n-scale-'));
	const [stack, sim] = await Promise.all([
		startStack(),
		startSimulator({
			seed: SEED,
			segments: [
				{ id: SEGMENT, name: 'Bench 200k', size },
				{ id: LEARNING_SEGMENT, name: 'Bench learning', size: 300 },
			],
			// SprintHub's own limit (100 a minute, answered 401 "too many requests").
			rateLimit: { requests: 100, windowMs: 60_000, mode: '401' },
			latencyMs: LATENCY_MS,
			listFullRecords: { allFields: 'honoured' },
			logLimit: 100,
		}),
	]);
	let instance: N8nInstance | undefined;
	try {
		const tarball = await buildAndPackPackage(workDir);
		await stack.query('select sync_add_segment($1, $2)', [SEGMENT, 'Bench 200k']);
		instance = await preparedN8n(major, tarball, [
			{ id: 'BenchSprintHubApi', name: 'SprintHub account', type: 'sprintHubApi', data: { baseUrl: sim.baseUrl, instance: sim.instance, apiToken: sim.token } },
			{ id: 'BenchSupabase0001', name: 'Supabase account', type: 'supabaseApi', data: { host: stack.supabaseUrl, serviceRole: stack.serviceRoleKey } },
		]);
		const workflow = adaptWorkflow(readBenchWorkflow('package-workflow.json'), { baseUrl: sim.baseUrl, instance: sim.instance, segmentId: SEGMENT }, (node) => {
			if (node.type.endsWith('.sprintHubSegmentSync')) (node.parameters.options as Record<string, unknown>).requestsPerMinute = budget;
		});
		const truth = sim.truth.segmentMemberIds(SEGMENT);
		await learnAccount(stack, sim);
		sim.resetLog();
		stack.gateway.requests.length = 0;
		const measured = await runScheduled(instance, workflow, { leadMs: major === 1 ? 50_000 : 75_000, timeoutMs: 60 * 60_000 });
		const byEndpoint = sim.counters.byEndpoint as Record<string, number>;
		const calls = sim.counters.total;
		const [{ stored }] = await stack.query<{ stored: number }>('select count(*)::int as stored from leads where id = any($1::bigint[])', [truth]);
		const [{ members }] = await stack.query<{ members: number }>(
			'select count(*)::int as members from sync_segment_leads where segment_id = $1 and left_at is null',
			[SEGMENT],
		);
		const summary = measured.outputs['Sync Segment']?.[0] ?? {};
		const boundS = (calls / budget) * 60;
		const growthMb = round(measured.peakRssMb - measured.idleRssMb, 1);
		const row: Row = {
			n8n: instance.installation.version,
			status: `${measured.execution.status} / ${String(summary.status ?? '')}`,
			'segment members': truth.length,
			'leads stored': stored,
			'members recorded': members,
			'API calls (list / detail)': `${calls} (${byEndpoint.segmentLeads ?? 0} / ${byEndpoint.leadDetail ?? 0})`,
			throttled: sim.counters.throttled,
			'budget /min': budget,
			'bound s (calls ÷ budget)': round(boundS, 1),
			'wall s': round(measured.wallMs / 1000, 1),
			'wall / bound': round(measured.wallMs / 1000 / boundS, 3),
			'DB requests': stack.gateway.requests.length,
			'RSS idle MB': measured.idleRssMb,
			'RSS peak MB': measured.peakRssMb,
			'peak − idle MB': growthMb,
			'÷ goal (300 MB)': round(growthMb / RSS_GOAL_MB, 3),
			'execution data B': measured.executionDataBytes,
			'output items': (measured.outputs['Sync Segment'] ?? []).length,
		};
		printTable(`One segment of ${size} leads in real n8n ${instance.installation.version}, enrichment auto, lists carry full records`, [row]);
		const detailCallsForAll = truth.length + (byEndpoint.segmentLeads ?? 0);
		process.stdout.write(
			`with a detail call per lead instead: ${detailCallsForAll} calls, ${round(detailCallsForAll / budget / 60, 1)} h at ${budget}/min\n`,
		);
		saveResults(`n8n-scale-${major}`, { size, budget, latencyMs: LATENCY_MS, row, summary, measured, detailCallsForAll });
		return [row];
	} finally {
		await instance?.dispose();
		await Promise.all([stack.stop(), sim.close()]);
		fs.rmSync(workDir, { recursive: true, force: true });
	}
}

if (require.main === module) {
	benchN8nScale().catch((error: unknown) => {
		process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
		process.exit(1);
	});
}
