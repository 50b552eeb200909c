/**
 * Benchmark 6: the sync health report for a large account, server-side. 200 segments with 90 days of
 * run logs (one run a day each, 18,000 rows, with failures, partial and throttled runs) and 500
 * members each; the report read through PostgREST + supabase-js (SyncStore, the report views) and
 * rendered to HTML, for the default 30-day window and for all 90 days. Median of 3 after a warm-up.
 * Wall time and the process's CPU time: on a shared machine the CPU time is what the render costs.
 */
import { performance } from 'node:perf_hooks';
import { createUndiciFetch } from '../engine/http/undiciFetch';
import { buildReport, loadReport, renderReportHtml, type ReportOptions } from '../engine/report';
import { SyncStore } from '../engine/store';
import { startStack } from '../test/support/stack';
import { printTable, round, saveResults, type Row } from './support';

const SEGMENTS = 200;
const DAYS = 90;
const MEMBERS = 500;
const REPEAT = 3;

export async function benchReport(): Promise<Row[]> {
	const stack = await startStack();
	const http = createUndiciFetch();
	const store = SyncStore.connect({ url: stack.supabaseUrl, serviceRoleKey: stack.serviceRoleKey, fetch: http.fetch });
	const rows: Row[] = [];
	try {
		await stack.query(`select sync_add_segment(s, 'Segment ' || s, '0 6 * * *') from generate_series(1, ${SEGMENTS}) s`);
		await stack.query(
			`insert into sync_segment_leads (segment_id, lead_id) select s, s * 100000 + m from generate_series(1, ${SEGMENTS}) s, generate_series(1, ${MEMBERS}) m`,
		);
		// One run a day per segment: 1 in 40 failed, 1 in 25 partial; durations and counts vary by day.
		await stack.query(`
			insert into sync_segments_logs (segment_id, execution_time, finished_at, status, message, stats, duration_seconds, success_rate, trigger, error_class)
			select s, t, t + make_interval(secs => d), st,
				case when st = 'failed' then 'SprintHub answered 503 for page 3 of segment ' || s else 'ok' end,
				jsonb_build_object('leads_seen', 5000 + s * 10 + day, 'inserted', (s * day) % 40, 'updated', (s + day) % 300, 'left', day % 7,
					'detail_calls', (s * day) % 40 + (s + day) % 300, 'requests', 6 + (s * day) % 40 + (s + day) % 300, 'throttled', (day % 11 = 0)::int * 3,
					'backoff_ms', (day % 11 = 0)::int * 45000, 'failed', (st = 'partial')::int * 2),
				d, case when st = 'failed' then 0 else 100 end, 'schedule', case when st = 'failed' then 'transient' end
			from generate_series(1, ${SEGMENTS}) s, generate_series(1, ${DAYS}) day,
				lateral (select now() - make_interval(days => ${DAYS} - day, hours => 6 - s % 5) as t,
					60 + (s * 7 + day * 13) % 900 as d,
					case when (s + day) % 40 = 0 then 'failed' when (s + day) % 25 = 0 then 'partial' else 'success' end as st) v`);
		await stack.query(`update sync_segments_control c set last_execution = l.execution_time, last_status = l.status, last_success_at = l.execution_time,
			next_execution = l.execution_time + interval '1 day'
			from (select distinct on (segment_id) * from sync_segments_logs order by segment_id, execution_time desc) l where l.segment_id = c.segment_id`);
		await stack.query('analyze');
		const [{ count }] = await stack.query<{ count: string }>('select count(*) from sync_segments_logs');
		process.stdout.write(`data: ${SEGMENTS} segments, ${count} run logs over ${DAYS} days, ${SEGMENTS * MEMBERS} memberships\n`);

		for (const days of [30, 90]) {
			const options: ReportOptions = { days };
			const load: number[] = [];
			const shape: number[] = [];
			const render: number[] = [];
			const renderCpu: number[] = [];
			let bytes = 0;
			let runs = 0;
			for (let attempt = 0; attempt <= REPEAT; attempt++) {
				const a = performance.now();
				const report = await loadReport(store, options);
				const b = performance.now();
				const health = await store.health();
				const reportRuns = await store.reportRuns({ since: new Date(Date.parse(report.window.from)) });
				const calls = await store.callsPerHour(new Date(Date.parse(report.window.from)));
				const c = performance.now();
				const cpu = process.cpuUsage();
				const reshaped = buildReport(health, reportRuns, calls, options);
				const d = performance.now();
				const html = renderReportHtml(reshaped);
				const e = performance.now();
				const used = process.cpuUsage(cpu);
				if (attempt === 0) continue; // warm-up
				load.push(b - a);
				shape.push(d - c);
				render.push(e - d);
				renderCpu.push((used.user + used.system) / 1000);
				bytes = Buffer.byteLength(html);
				runs = reportRuns.length;
			}
			const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
			rows.push({
				window: `${days} days`,
				'runs read': runs,
				'read (3 queries, ms)': round(median(load)),
				'shape (ms)': round(median(shape), 1),
				'render HTML (ms)': round(median(render), 1),
				'shape + render CPU (ms)': round(median(renderCpu)),
				'read + shape + render (ms)': round(median(load) + median(shape) + median(render)),
				'page (KB)': round(bytes / 1024),
			});
		}
		printTable(`Report for ${SEGMENTS} segments × ${DAYS} days of run logs (median of ${REPEAT})`, rows);
		saveResults('report', rows);
		return rows;
	} finally {
		await http.close();
		await stack.stop();
	}
}
