/**
 * Benchmark 10 (issue 15, item 3): the workflow an n8n user would build instead, run in a real n8n
 * against the same simulator and the same database stack as the package's node, side by side.
 *
 *   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test npm run bench -- n8n [--n8n 1|2|both] [--size 10000]
 *
 * Approaches, each on a fresh simulator (same seed, so the same leads), a fresh database and a fresh n8n
 * user folder with the packed package installed:
 * - baseline: bench/n8n/baseline-workflow.json, stock nodes only: Schedule Trigger → HTTP Request with
 *   pagination over POST /leadsfromtype/segment/{id} (100 a page, complete when a page is empty) →
 *   Split Out → HTTP Request GET /leads/{id}?allFields=1 per lead (batching paces it) → Set (columns)
 *   → Supabase "Create" into the package's leads table;
 * - package: bench/n8n/package-workflow.json, Schedule Trigger → SprintHub Segment Sync (Segment → Sync,
 *   enrichment auto), with the simulator's lists honouring allFields=1 (list pages carry full records);
 *   On a fresh database the first run cannot use the lists yet: the check needs the account's custom
 *   fields, learned from stored records, so the first load makes a detail call per lead and the next
 *   run checks the lists and uses them (README, "Enrichment");
 * - package, detail calls (only with --all): the simulator ignoring allFields=1, so the engine stays
 *   with a detail call per new or changed lead.
 * Each runs twice: the first load, then a "daily" run after 1 % of the members changed, 0.5 % left and
 * 0.5 % joined (new leads). Both approaches are paced at the same 3,000 calls a minute (the baseline by
 * the HTTP Request node's batching, 5 items every 100 ms, and 20 ms between pages; the node by its
 * Requests Per Minute option); the simulator's own limit is 6,000 a minute (100 per second), so neither
 * is cut short; the simulator counts throttled calls, and they must stay 0.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { startSimulator, type ListFullRecords, type Simulator } from '../../test/support/simulator';
import { startStack, type Stack } from '../../test/support/stack';
import { buildAndPackPackage } from '../../test/e2e/support/installPackage';
import type { N8nInstance } from '../../test/e2e/support/n8nInstance';
import type { N8nMajor } from '../../test/e2e/support/paths';
import { printTable, round, saveResults, type Row } from '../support';
import { adaptWorkflow, preparedN8n, readBenchWorkflow, runScheduled, type ScheduledRun } from './support';

const SEED = 15;
const SEGMENT = 4242;
const LATENCY_MS = 50;
/** Both approaches are paced at this rate (calls a minute). */
const PACE_PER_MINUTE = 3_000;
/** The simulator's own limit: twice the pace, so that neither approach is throttled. */
const SERVER_LIMIT = { requests: 100, windowMs: 1000 } as const;
const CHANGED_SHARE = 0.01;
const LEFT_SHARE = 0.005;
const JOINED_SHARE = 0.005;

interface Approach {
	name: string;
	workflowFile: string;
	listFullRecords: ListFullRecords;
	/** Run only with --all (or --only): the first two answer the question, this one adds minutes. */
	optional?: boolean;
}

const APPROACHES: Approach[] = [
	{ name: 'baseline (stock nodes)', workflowFile: 'baseline-workflow.json', listFullRecords: { allFields: 'honoured' } },
	{ name: 'package, lists carry full records', workflowFile: 'package-workflow.json', listFullRecords: { allFields: 'honoured' } },
	{ name: 'package, detail calls', workflowFile: 'package-workflow.json', listFullRecords: { allFields: 'ignored' }, optional: true },
];

interface Correctness {
	members: number;
	stored: number;
	missed: number;
	current: number;
	stale: number;
	fieldsKept: number;
	fieldsInDetail: number;
	extraRows: number;
	leaversShownAsMembers: number | null;
}

/** What the database holds against the simulator's truth for the segment. */
async function correctness(stack: Stack, sim: Simulator, leavers: number[], membership: boolean): Promise<Correctness> {
	const truth = [...sim.truth.segmentMemberIds(SEGMENT)];
	const rows = await stack.query<{ id: string; change_marker: string | null; keys: number }>(
		'select id, change_marker, (select count(*) from jsonb_object_keys(raw))::int as keys from leads',
	);
	const byId = new Map(rows.map((row) => [Number(row.id), row]));
	let stored = 0;
	let current = 0;
	let keys = 0;
	let detailKeys = 0;
	for (const id of truth) {
		const row = byId.get(id);
		const detail = sim.truth.lead(id)!;
		detailKeys += Object.keys(detail).length;
		if (!row) continue;
		stored++;
		keys += row.keys;
		if (row.change_marker === detail.updatedDate) current++;
	}
	const members = new Set(truth);
	let leaversShownAsMembers: number | null = null;
	if (membership) {
		const open = await stack.query<{ n: number }>(
			'select count(*)::int as n from sync_segment_leads where segment_id = $1 and left_at is null and lead_id = any($2::bigint[])',
			[SEGMENT, leavers],
		);
		leaversShownAsMembers = open[0].n;
	} else {
		// Nothing in the table says a lead left: every leaver whose row is there still looks like a member.
		leaversShownAsMembers = leavers.filter((id) => byId.has(id)).length;
	}
	return {
		members: truth.length,
		stored,
		missed: truth.length - stored,
		current,
		stale: stored - current,
		fieldsKept: stored ? round(keys / stored, 1) : 0,
		fieldsInDetail: truth.length ? round(detailKeys / truth.length, 1) : 0,
		extraRows: rows.filter((row) => !members.has(Number(row.id))).length,
		leaversShownAsMembers,
	};
}

interface RunFigures {
	approach: string;
	n8n: string;
	run: 'first' | 'daily';
	measured: ScheduledRun;
	calls: number;
	detailCalls: number;
	listCalls: number;
	throttled: number;
	dbRequests: number;
	dbErrors: number;
	check: Correctness;
	nodeSummary: Record<string, unknown> | null;
}

async function runApproach(major: N8nMajor, tarball: string, approach: Approach, size: number, leadMs: number): Promise<RunFigures[]> {
	const [stack, sim] = await Promise.all([
		startStack(),
		startSimulator({
			seed: SEED,
			segments: [{ id: SEGMENT, name: 'Bench n8n', size }],
			rateLimit: { ...SERVER_LIMIT, mode: '401' },
			latencyMs: LATENCY_MS,
			listFullRecords: approach.listFullRecords,
			logLimit: 100,
		}),
	]);
	let instance: N8nInstance | undefined;
	const figures: RunFigures[] = [];
	try {
		const isPackage = approach.workflowFile === 'package-workflow.json';
		if (isPackage) await stack.query('select sync_add_segment($1, $2)', [SEGMENT, 'Bench n8n']);
		instance = await preparedN8n(major, tarball, [
			{ id: 'BenchSprintHubHdr', name: 'SprintHub token', type: 'httpHeaderAuth', data: { name: 'apitoken', value: sim.token } },
			{ id: 'BenchSprintHubApi', name: 'SprintHub account', type: 'sprintHubApi', data: { baseUrl: sim.baseUrl, instance: sim.instance, apiToken: sim.token } },
			{ id: 'BenchSupabase0001', name: 'Supabase account', type: 'supabaseApi', data: { host: stack.supabaseUrl, serviceRole: stack.serviceRoleKey } },
		]);
		const workflow = adaptWorkflow(readBenchWorkflow(approach.workflowFile), { baseUrl: sim.baseUrl, instance: sim.instance, segmentId: SEGMENT }, (node) => {
			if (node.type.endsWith('.sprintHubSegmentSync')) {
				(node.parameters.options as Record<string, unknown>).requestsPerMinute = PACE_PER_MINUTE;
			}
		});
		let leavers: number[] = [];
		for (const run of ['first', 'daily'] as const) {
			if (run === 'daily') {
				const members = sim.truth.segmentMemberIds(SEGMENT).length;
				sim.mutate.change({ segmentId: SEGMENT, count: Math.round(members * CHANGED_SHARE) });
				leavers = sim.mutate.leave(SEGMENT, Math.round(members * LEFT_SHARE));
				sim.mutate.join(SEGMENT, Math.round(members * JOINED_SHARE), { newLeads: true });
			}
			sim.resetLog();
			stack.gateway.requests.length = 0;
			const measured = await runScheduled(instance, workflow, { leadMs, timeoutMs: 30 * 60_000 });
			const byEndpoint = sim.counters.byEndpoint as Record<string, number>;
			const nodeOutput = isPackage ? (measured.outputs['Sync Segment']?.[0] ?? null) : null;
			figures.push({
				approach: approach.name,
				n8n: instance.installation.version,
				run,
				measured,
				calls: sim.counters.total,
				detailCalls: byEndpoint.leadDetail ?? 0,
				listCalls: byEndpoint.segmentLeads ?? 0,
				throttled: sim.counters.throttled,
				dbRequests: stack.gateway.requests.length,
				dbErrors: stack.gateway.requests.filter((request) => request.status >= 400).length,
				check: await correctness(stack, sim, leavers, isPackage),
				nodeSummary: nodeOutput,
			});
			const last = figures[figures.length - 1];
			process.stdout.write(
				`  ${approach.name}, ${run}: ${last.measured.execution.status}, ${last.calls} calls, wall ${round(last.measured.wallMs / 1000, 1)} s, ` +
					`RSS ${last.measured.idleRssMb} → ${last.measured.peakRssMb} MB, data ${last.measured.executionDataBytes} B${last.measured.error ? `, error: ${last.measured.error.slice(0, 160)}` : ''}\n`,
			);
		}
		return figures;
	} finally {
		await instance?.dispose();
		await Promise.all([stack.stop(), sim.close()]);
	}
}

function argument(name: string): string | undefined {
	const index = process.argv.indexOf(`--${name}`);
	return index === -1 ? undefined : process.argv[index + 1];
}

export async function benchN8nCompare(): Promise<Row[]> {
	const which = argument('n8n') ?? '1';
	const majors: N8nMajor[] = which === 'both' ? [1, 2] : [Number(which) as N8nMajor];
	const size = Number(argument('size') ?? 10_000);
	const only = argument('only');
	const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-n8n-'));
	const all: RunFigures[] = [];
	try {
		const tarball = await buildAndPackPackage(workDir);
		for (const major of majors) {
			for (const approach of APPROACHES) {
				if (only && !approach.name.startsWith(only)) continue;
				if (!only && approach.optional && !process.argv.includes('--all')) continue;
				all.push(...(await runApproach(major, tarball, approach, size, major === 1 ? 50_000 : 75_000)));
			}
		}
	} finally {
		fs.rmSync(workDir, { recursive: true, force: true });
	}
	const rows: Row[] = all.map((figure) => ({
		n8n: figure.n8n,
		approach: figure.approach,
		run: figure.run,
		status: figure.measured.execution.status,
		'API calls': figure.calls,
		'list / detail': `${figure.listCalls} / ${figure.detailCalls}`,
		throttled: figure.throttled,
		'bound s (calls ÷ pace)': round((figure.calls / PACE_PER_MINUTE) * 60, 1),
		'wall s': round(figure.measured.wallMs / 1000, 1),
		'DB requests (errors)': `${figure.dbRequests} (${figure.dbErrors})`,
		'RSS idle MB': figure.measured.idleRssMb,
		'RSS peak MB': figure.measured.peakRssMb,
		'peak − idle MB': round(figure.measured.peakRssMb - figure.measured.idleRssMb, 1),
		'execution data KB': round(figure.measured.executionDataBytes / 1024, 1),
		members: figure.check.members,
		'stored / missed': `${figure.check.stored} / ${figure.check.missed}`,
		'current / stale': `${figure.check.current} / ${figure.check.stale}`,
		'fields kept / in detail': `${figure.check.fieldsKept} / ${figure.check.fieldsInDetail}`,
		'rows not members': figure.check.extraRows,
		'leavers shown as members': figure.check.leaversShownAsMembers,
		error: figure.measured.error ? figure.measured.error.slice(0, 200) : '',
	}));
	printTable(`Side by side in real n8n: segment of ${size} leads, ${LATENCY_MS} ms per call, paced at ${PACE_PER_MINUTE}/min, server limit ${SERVER_LIMIT.requests} per ${SERVER_LIMIT.windowMs} ms`, rows);
	const subset = only ? `-${only.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}` : '';
	saveResults(`n8n-compare${majors.length === 1 ? `-${majors[0]}` : ''}${subset}`, {
		size,
		latencyMs: LATENCY_MS,
		pacePerMinute: PACE_PER_MINUTE,
		serverLimit: SERVER_LIMIT,
		mutation: { changedShare: CHANGED_SHARE, leftShare: LEFT_SHARE, joinedShare: JOINED_SHARE },
		rows,
		runs: all,
	});
	return rows;
}

if (require.main === module) {
	benchN8nCompare().catch((error: unknown) => {
		process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
		process.exit(1);
	});
}
