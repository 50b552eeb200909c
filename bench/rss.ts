/**
 * Benchmark 4: peak RSS of a sync against the size of the segment.
 *
 * Three processes: this one holds the database stack (Postgres + PostgREST + gateway); the simulator
 * runs as its own process (npx tsx test/support/simulator/main.ts); each measured sync runs in a fresh
 * child (bench/rssChild.ts) that reports its own peak RSS (/proc/self/status VmHWM and
 * process.resourceUsage().maxRSS). A child that syncs nothing gives the baseline of Node + the engine.
 *
 * - enrichment `none`, first load (list records written, every lead new): 10,000 and 50,000 leads;
 * - enrichment `changed` after a first load (the daily run: pages of 1,000 ids, no detail call since
 *   nothing changed): 50,000, 100,000 and 200,000 leads. The first load is written straight into the
 *   leads table (id, change marker, enriched_at) from the simulator's deterministic truth, because
 *   fetching 350,000 details through the engine would take hours at any honest rate.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { startSimulator } from '../test/support/simulator';
import { startStack, type Stack } from '../test/support/stack';
import { freePort } from '../test/support/net';
import { printTable, round, saveResults, seconds, type Row } from './support';

const SEED = 11;
const SEGMENTS = [
	{ id: 301, name: 'rss none 10k', size: 10_000 },
	{ id: 302, name: 'rss none 50k', size: 50_000 },
	{ id: 201, name: 'rss 50k', size: 50_000 },
	{ id: 202, name: 'rss 100k', size: 100_000 },
	{ id: 203, name: 'rss 200k', size: 200_000 },
];
const TSX = join(__dirname, '..', 'node_modules', '.bin', 'tsx');

interface ChildReport {
	status?: string;
	message?: string;
	leadsSeen?: number;
	pages?: number;
	detailCalls?: number;
	inserted?: number;
	durationMs?: number;
	vmHwmMb: number;
	maxRssMb: number;
}

async function startSimulatorProcess(port: number): Promise<{ child: ChildProcess; baseUrl: string; instance: string; token: string }> {
	const segments = SEGMENTS.map((s) => `${s.id}:${s.name}:${s.size}`).join(',');
	const child = spawn(TSX, [join(__dirname, '..', 'test', 'support', 'simulator', 'main.ts'), '--port', String(port), '--seed', String(SEED), '--segments', segments, '--rate', 'off', '--log-limit', '100'], {
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let output = '';
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`simulator did not start: ${output}`)), 120_000);
		child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
		child.stdout?.on('data', (chunk: Buffer) => {
			output += chunk.toString();
			const base = /base URL: (\S+)/.exec(output);
			const instance = /instance: (\S+)/.exec(output);
			const token = /token: (\S+)/.exec(output);
			if (base && instance && token && /segment 203/.test(output)) {
				clearTimeout(timer);
				resolve({ child, baseUrl: base[1], instance: instance[1], token: token[1] });
			}
		});
		child.once('exit', (code) => reject(new Error(`simulator exited with ${code}: ${output}`)));
	});
}

function runChild(config: Record<string, unknown>): Promise<ChildReport> {
	return new Promise((resolve, reject) => {
		const child = spawn(TSX, [join(__dirname, 'rssChild.ts')], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BENCH_RSS_CONFIG: JSON.stringify(config) } });
		let out = '';
		let err = '';
		child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
		child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
		child.once('exit', (code) => {
			const line = out.trim().split('\n').pop() ?? '';
			if (code !== 0) return reject(new Error(`sync child exited with ${code}: ${err.slice(-2000)}`));
			try {
				resolve(JSON.parse(line) as ChildReport);
			} catch {
				reject(new Error(`sync child printed no report: ${out.slice(-500)} ${err.slice(-500)}`));
			}
		});
	});
}

/** The first load of the `changed` runs: every member known, enriched and with its current marker. */
async function seedFirstLoad(stack: Stack, segmentIds: number[]): Promise<void> {
	const truth = await startSimulator({ seed: SEED, segments: SEGMENTS, rateLimit: null });
	try {
		for (const segmentId of segmentIds) {
			const ids = truth.truth.segmentMemberIds(segmentId);
			const markers = ids.map((id) => String(truth.truth.listLead(id)?.updatedDate ?? ''));
			for (let from = 0; from < ids.length; from += 50_000) {
				await stack.query(
					`insert into leads (id, raw, change_marker, enriched_at)
					 select t.id, jsonb_build_object('id', t.id, 'updatedDate', t.marker), t.marker, now()
					 from unnest($1::bigint[], $2::text[]) as t(id, marker)
					 on conflict (id) do update set change_marker = excluded.change_marker, enriched_at = now()`,
					[ids.slice(from, from + 50_000), markers.slice(from, from + 50_000)],
				);
			}
		}
	} finally {
		await truth.close();
	}
}

export async function benchRss(): Promise<Row[]> {
	const stack = await startStack();
	let simulator: ChildProcess | undefined;
	try {
		const sim = await startSimulatorProcess(await freePort());
		simulator = sim.child;
		for (const segment of SEGMENTS) await stack.query('select sync_add_segment($1)', [segment.id]);
		const base = { supabaseUrl: stack.supabaseUrl, serviceRoleKey: stack.serviceRoleKey, baseUrl: sim.baseUrl, instance: sim.instance, token: sim.token };
		const rows: Row[] = [];
		const add = (label: string, enrichment: string, report: ChildReport) =>
			rows.push({
				run: label,
				enrichment,
				'leads seen': report.leadsSeen ?? 0,
				'list pages': report.pages ?? 0,
				'detail calls': report.detailCalls ?? 0,
				'leads written': report.inserted ?? 0,
				'wall s': report.durationMs === undefined ? '' : seconds(report.durationMs),
				'peak RSS MB (VmHWM)': report.vmHwmMb,
				'maxRSS MB': report.maxRssMb,
			});
		add('baseline: Node + engine, no sync', '', await runChild({ ...base, idle: true }));
		for (const segmentId of [301, 302]) {
			const report = await runChild({ ...base, segmentId, enrichment: 'none' });
			if (report.status !== 'success') throw new Error(`segment ${segmentId}: ${report.status} ${report.message}`);
			add(`first load, segment of ${SEGMENTS.find((s) => s.id === segmentId)!.size}`, 'none', report);
		}
		await seedFirstLoad(stack, [201, 202, 203]);
		for (const segmentId of [201, 202, 203]) {
			const report = await runChild({ ...base, segmentId, enrichment: 'changed' });
			if (report.status !== 'success') throw new Error(`segment ${segmentId}: ${report.status} ${report.message}`);
			add(`after first load, segment of ${SEGMENTS.find((s) => s.id === segmentId)!.size}`, 'changed', report);
		}
		const measuredRows = rows.slice(1);
		const peaks = measuredRows.map((row) => Number(row['peak RSS MB (VmHWM)']));
		printTable('Peak RSS of the sync process (simulator and database stack in other processes)', rows);
		process.stdout.write(`largest peak ${Math.max(...peaks)} MB (target < 200 MB); spread across sizes ${round(Math.max(...peaks) - Math.min(...peaks))} MB\n`);
		saveResults('rss', { rows });
		return rows;
	} finally {
		simulator?.kill('SIGTERM');
		await stack.stop();
	}
}

if (require.main === module) {
	benchRss().catch((error: unknown) => {
		process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
		process.exit(1);
	});
}
