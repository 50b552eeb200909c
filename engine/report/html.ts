/**
 * The report as one self-contained HTML page: inline CSS and SVG, no script, and a
 * Content-Security-Policy that forbids every request, so it works offline and from an e-mail.
 */
import { chartSvg } from './charts';
import type { RunPoint, SegmentReport, SyncReport } from './data';
import { escapeHtml as h } from './escape';

// Okabe–Ito colours: told apart with the common colour-vision deficiencies.
const COLORS = { blue: '#0072b2', orange: '#e69f00', green: '#009e73', vermillion: '#d55e00', purple: '#cc79a7', sky: '#56b4e9' };

const HEALTH_LABEL: Record<string, string> = {
	ok: 'Healthy',
	running: 'Running',
	never_run: 'Not run yet',
	failing: 'Failing',
	overdue: 'Overdue',
	paused: 'Paused',
	error: 'Stopped (error)',
};

export function renderReportHtml(report: SyncReport): string {
	const now = Date.parse(report.generatedAt);
	const body =
		report.segments.length === 0
			? emptyState()
			: `${summary(report)}${accountChart(report)}<section class="cards" aria-label="Segments">${attentionFirst(report.segments).map((segment) => card(segment, report, now)).join('')}</section>`;
	return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="robots" content="noindex">
<title>SprintHub sync health</title>
<style>${CSS}</style>
</head>
<body>
<header class="top"><h1>SprintHub sync health</h1><p class="sub">Last ${report.window.days} days, generated ${h(dateTime(report.generatedAt))}. Alert lines: success rate under ${report.thresholds.minSuccessRate} %, a run over ${report.thresholds.maxRunMinutes} min, more than ${report.thresholds.maxConsecutiveFailures} failures in a row.</p></header>
<main>${body}</main>
</body>
</html>
`;
}

/** Segments that need attention first, so a problem is at the top of the page; then by id. */
function attentionFirst(segments: SegmentReport[]): SegmentReport[] {
	const rank = (s: SegmentReport) => (s.status === 'error' || s.health === 'failing' ? 0 : s.alerts.length > 0 || s.health === 'overdue' ? 1 : 2);
	return [...segments].sort((a, b) => rank(a) - rank(b) || a.id - b.id);
}

function emptyState(): string {
	return `<section class="empty" id="empty-state"><h2>No segment is registered yet</h2>
<p>The dashboard shows a card per segment once segments are registered and synced. Register one with any of:</p>
<ul><li>SQL: <code>select sync_add_segment(4242, 'Clientes ativos', '0 6 * * *');</code></li>
<li>n8n: the SprintHub Segment Sync node, <em>Segment → Add</em></li>
<li>the command line: <code>sprinthub-sync segments add 4242</code></li></ul>
<p>Then run the bundled <em>SprintHub segment sync</em> workflow, or <code>sprinthub-sync sync 4242</code>.</p></section>`;
}

function summary(report: SyncReport): string {
	const t = report.totals;
	const attention = t.needingAttention;
	const items: Array<[string, string, string]> = [
		['segments', 'Segments', number(t.segments)],
		['attention', 'Need attention', number(attention)],
		['members', 'Leads in segments', number(t.members)],
		['runs', `Runs (${report.window.days} d)`, number(t.runs)],
		['failed', 'Failed runs', number(t.failedRuns)],
		['quarantined', 'Quarantined', number(t.quarantined)],
	];
	return `<section class="summary${attention ? ' bad' : ''}" aria-label="Summary"><dl>${items
		.map(([key, label, value]) => `<div data-total="${key}"><dt>${label}</dt><dd>${value}</dd></div>`)
		.join('')}</dl></section>`;
}

/**
 * Where a time axis starts: the window's start, or shortly before the first point when the history is
 * younger than the window (a new install), so the points are not squeezed against the right edge.
 * Every segment's charts share one axis, so cards compare at a glance.
 */
function axisStart(report: SyncReport, times: number[]): number {
	const from = Date.parse(report.window.from);
	const to = Date.parse(report.window.to);
	const start = Math.min(...times, to - 600_000);
	return Math.max(from, start - (to - start) * 0.05);
}

const firstRunTimes = (report: SyncReport) => report.segments.filter((s) => s.runs.length).map((s) => Date.parse(s.runs[0].at));

function accountChart(report: SyncReport): string {
	const from = axisStart(report, report.callsPerHour.map((row) => Date.parse(row.hour)));
	const to = Date.parse(report.window.to);
	const peak = report.callsPerHour.reduce((max, row) => Math.max(max, row.requests), 0);
	const chart = chartSvg({
		id: 'calls-per-hour',
		title: 'SprintHub calls per hour, whole account',
		unit: 'calls',
		from,
		to,
		series: [
			{ name: 'Calls', color: COLORS.blue, barMs: 3_600_000, points: report.callsPerHour.map((row) => [Date.parse(row.hour), row.requests]) },
			{ name: 'Throttled answers', color: COLORS.vermillion, barMs: 3_600_000, points: report.callsPerHour.map((row) => [Date.parse(row.hour), row.throttled]) },
		],
		thresholds: [{ label: `Budget ${number(report.budget.requestsPerHour)}/h (${report.budget.requestsPerMinute}/min)`, value: report.budget.requestsPerHour }],
		width: 760,
		height: 170,
	});
	return `<section class="account" aria-label="Account"><h2>SprintHub account</h2><p class="sub">Busiest hour: ${number(peak)} calls, ${peak > 0 ? Math.round((100 * peak) / report.budget.requestsPerHour) : 0} % of the budget.</p>${chart}</section>`;
}

function card(segment: SegmentReport, report: SyncReport, now: number): string {
	const id = `segment-${segment.id}`;
	const from = axisStart(report, firstRunTimes(report));
	const to = Date.parse(report.window.to);
	const title = segment.name ? `${segment.name} (${segment.id})` : `Segment ${segment.id}`;
	const last = segment.lastRun;
	const facts: Array<[string, string]> = [
		['Last run', last ? `${relative(last.at, now)} · ${last.status ?? '-'}${last.durationSeconds !== null ? ` · ${duration(last.durationSeconds)}` : ''}` : 'never'],
		['Next run', segment.status === 'paused' ? 'paused' : segment.nextRun ? relative(segment.nextRun, now) : '-'],
		['Members', number(segment.members)],
		['Success rate', segment.successRate === null ? '-' : `${segment.successRate} %`],
		['Quarantined', number(segment.quarantined)],
		['Failures in a row', number(segment.consecutiveFailures)],
	];
	const bad = segment.alerts.length > 0 || segment.health === 'failing' || segment.health === 'error';
	const alerts = segment.alerts.length ? `<p class="alerts">Alerts: ${segment.alerts.map((a) => `<span class="alert">${h(a.replace(/_/g, ' '))}</span>`).join(' ')}</p>` : '';
	const showError = last?.message && last.status !== 'success';
	const error = showError ? `<p class="error"><strong>Last ${h(last!.status ?? 'run')}:</strong> ${h(last!.message!)}</p>` : '';
	const advice = segment.advice ? `<p class="advice"><strong>What to do:</strong> ${h(segment.advice)}</p>` : '';
	const charts = segment.runs.length === 0 ? `<p class="none">No runs in the last ${report.window.days} days.</p>` : segmentCharts(segment, report, id, from, to);
	return `<article class="card${bad ? ' bad' : ''}" id="${id}" data-segment="${segment.id}" data-health="${h(segment.health)}" aria-labelledby="${id}-name">
<header><h2 id="${id}-name">${h(title)}</h2><span class="badge ${h(segment.health)}">${h(HEALTH_LABEL[segment.health] ?? segment.health)}</span></header>
<dl class="facts">${facts.map(([k, v]) => `<div><dt>${k}</dt><dd>${h(v)}</dd></div>`).join('')}</dl>
${alerts}${error}${advice}${charts}
</article>`;
}

function segmentCharts(segment: SegmentReport, report: SyncReport, id: string, from: number, to: number): string {
	const series = (name: string, color: string, pick: (run: RunPoint) => number | null) => ({
		name,
		color,
		points: segment.runs.map((run): [number, number | null] => [Date.parse(run.at), pick(run)]),
	});
	const charts = [
		chartSvg({
			id: `${id}-duration`,
			title: 'Run duration',
			unit: 'min',
			from,
			to,
			series: [series('Duration', COLORS.blue, (r) => (r.durationSeconds === null ? null : Math.round(r.durationSeconds / 6) / 10))],
			thresholds: [{ label: `${report.thresholds.maxRunMinutes} min`, value: report.thresholds.maxRunMinutes }],
		}),
		chartSvg({
			id: `${id}-success`,
			title: 'Success rate (last 20 runs)',
			unit: '%',
			from,
			to,
			yMax: 100,
			series: [series('Success rate', COLORS.green, (r) => r.successRate)],
			thresholds: [{ label: `${report.thresholds.minSuccessRate} %`, value: report.thresholds.minSuccessRate }],
		}),
		chartSvg({ id: `${id}-seen`, title: 'Leads seen per run', unit: 'leads', from, to, series: [series('Seen', COLORS.sky, (r) => r.leadsSeen)] }),
		chartSvg({
			id: `${id}-changes`,
			title: 'Leads new, updated and left per run',
			unit: 'leads',
			from,
			to,
			series: [series('New', COLORS.green, (r) => r.inserted), series('Updated', COLORS.orange, (r) => r.updated), series('Left', COLORS.purple, (r) => r.left)],
		}),
		chartSvg({
			id: `${id}-calls`,
			title: 'Detail calls and time throttled per run',
			unit: 'n / s',
			from,
			to,
			series: [series('Detail calls', COLORS.blue, (r) => r.detailCalls), series('Seconds throttled', COLORS.vermillion, (r) => r.throttledSeconds)],
		}),
	];
	return `<div class="charts">${charts.join('')}</div>${runTable(segment, id)}`;
}

/** Runs in each segment's table: the charts' descriptions sum up the rest, and 200 segments must stay a page, not a download. */
const TABLE_RUNS = 10;

/** The numbers behind the charts, folded away: for screen readers and for copying. */
function runTable(segment: SegmentReport, id: string): string {
	const rows = segment.runs
		.slice(-TABLE_RUNS)
		.reverse()
		.map(
			(r) =>
				`<tr><td>${h(dateTime(r.at))}</td><td>${h(r.status)}</td><td>${r.durationSeconds === null ? '-' : duration(r.durationSeconds)}</td><td>${number(r.leadsSeen)}</td><td>${number(r.inserted)}</td><td>${number(r.updated)}</td><td>${number(r.left)}</td><td>${number(r.detailCalls)}</td><td>${r.throttledSeconds}</td></tr>`,
		)
		.join('');
	return `<details><summary>Runs (latest ${Math.min(segment.runs.length, TABLE_RUNS)})</summary><div class="scroll"><table aria-describedby="${id}-name"><thead><tr><th scope="col">Started</th><th scope="col">Status</th><th scope="col">Duration</th><th scope="col">Seen</th><th scope="col">New</th><th scope="col">Updated</th><th scope="col">Left</th><th scope="col">Detail calls</th><th scope="col">Throttled s</th></tr></thead><tbody>${rows}</tbody></table></div></details>`;
}

function number(value: number): string {
	return value.toLocaleString('en-US');
}

function duration(seconds: number): string {
	if (seconds < 60) return `${Math.round(seconds * 10) / 10} s`;
	if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
	return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

function dateTime(iso: string): string {
	return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

function relative(iso: string, now: number): string {
	const seconds = Math.round((Date.parse(iso) - now) / 1000);
	const size = Math.abs(seconds);
	const text = size < 90 ? `${size} s` : size < 5400 ? `${Math.round(size / 60)} min` : size < 172_800 ? `${Math.round(size / 3600)} h` : `${Math.round(size / 86_400)} days`;
	return `${seconds <= 0 ? `${text} ago` : `in ${text}`} (${dateTime(iso)})`;
}

const CSS = `
:root{color-scheme:light;--ink:#1d2330;--muted:#5b6475;--line:#e3e6ec;--bg:#f5f6f8;--card:#fff;--bad:#c0392b;--ok:#1e7b4f}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
.top,main{max-width:1280px;margin:0 auto;padding:12px 16px}
h1{font-size:1.4rem;margin:8px 0 2px}h2{font-size:1.05rem;margin:0}
.sub{color:var(--muted);margin:2px 0 8px;font-size:.88rem}
.summary dl{display:grid;grid-template-columns:repeat(auto-fit,minmax(130px,1fr));gap:8px;margin:0}
.summary div,.account,.card,.empty{background:var(--card);border:1px solid var(--line);border-radius:8px}
.summary div{padding:8px 12px}.summary dt{color:var(--muted);font-size:.8rem}.summary dd{margin:0;font-size:1.4rem;font-weight:600}
.summary.bad div[data-total=attention] dd{color:var(--bad)}
.account{padding:12px;margin:12px 0;overflow-x:auto}.account .figure{max-width:900px}.account .chart{min-width:560px}.unit{font-weight:400}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,560px),1fr));gap:12px}
.card{padding:12px;border-left:5px solid var(--ok)}.card.bad{border-left-color:var(--bad)}
.card header{display:flex;justify-content:space-between;align-items:center;gap:8px;flex-wrap:wrap}
.badge{font-size:.78rem;font-weight:600;padding:2px 8px;border-radius:10px;background:#e8f5ee;color:var(--ok)}
.badge.failing,.badge.error{background:#fdecea;color:var(--bad)}.badge.overdue{background:#fff4e0;color:#8a5300}
.badge.paused,.badge.never_run{background:#eceef2;color:var(--muted)}.badge.running{background:#e6f0fa;color:#0b5394}
.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:4px 12px;margin:8px 0}
.facts dt{color:var(--muted);font-size:.75rem}.facts dd{margin:0;font-size:.88rem}
.alerts .alert{background:#fdecea;color:var(--bad);border-radius:4px;padding:1px 6px;font-size:.8rem}
.error{color:var(--bad);font-size:.88rem;overflow-wrap:anywhere}.advice{font-size:.88rem;background:#fff8e6;padding:6px 8px;border-radius:6px}
.none{color:var(--muted)}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,250px),1fr));gap:8px}
.figure{margin:0}.figure figcaption{font-size:.8rem;font-weight:600;color:var(--muted)}
.chart{width:100%;height:auto;display:block;color:var(--muted)}
.legend{display:flex;flex-wrap:wrap;gap:2px 10px;font-size:.75rem;color:var(--muted)}
.key i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
.key i.dash{height:0;border-top:2px dashed var(--bad);border-radius:0;vertical-align:3px}
details{margin-top:8px;font-size:.82rem}.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%}th,td{text-align:right;padding:2px 6px;border-bottom:1px solid var(--line);white-space:nowrap}
th:first-child,td:first-child,th:nth-child(2),td:nth-child(2){text-align:left}
.empty{padding:16px}code{background:#eceef2;padding:1px 4px;border-radius:3px;overflow-wrap:anywhere}
`;
