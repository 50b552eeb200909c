import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadReport, renderReportHtml, type SyncReport } from '../../engine';
import { openInChromium } from '../support/chromium';
import { startSyncWorld, type SyncWorld } from '../support/world';

/**
 * The sync health report on a real database after real syncs: the figures match the run ledger, and
 * the page, opened in a real browser (headless Chromium), shows the cards and chart series.
 */
let world: SyncWorld;
const work = mkdtempSync(join(tmpdir(), 'sync-report-'));
/** Where the screenshot goes (outside the repository): look at it after a run. */
export const SCREENSHOT = join(tmpdir(), 'sprinthub-sync-report.png');

beforeAll(async () => {
	world = await startSyncWorld({ seed: 11, segments: [{ id: 301, name: 'Hot leads', size: 1500 }, { id: 302, name: 'Newsletter', size: 300 }] });
});
afterAll(() => world?.stop());

async function renderToFile(report: SyncReport, name: string): Promise<string> {
	const file = join(work, name);
	writeFileSync(file, renderReportHtml(report));
	return file;
}

describe('an empty database', () => {
	it('gives an empty report, and a page that says how to register a segment', async () => {
		const report = await loadReport(world.engine().store);
		expect(report.segments).toEqual([]);
		expect(report.totals).toMatchObject({ segments: 0, runs: 0, members: 0 });
		const { dom, consoleLines } = await openInChromium(await renderToFile(report, 'empty.html'));
		expect(dom).toContain('id="empty-state"');
		expect(dom).toContain('No segment is registered yet');
		expect(dom).toContain('sync_add_segment(');
		expect(dom).not.toContain('class="card');
		expect(consoleLines).toEqual([]);
	});
});

describe('after syncs', () => {
	let report: SyncReport;

	beforeAll(async () => {
		// 303 is not in SprintHub: its run fails, as a mistyped segment id would.
		for (const [id, name] of [[301, 'Hot leads'], [302, 'Newsletter'], [303, null]] as const) await world.stack.query('select sync_add_segment($1, $2)', [id, name]);
		const engine = world.engine();
		await engine.syncSegments([301, 302, 303], { trigger: 'manual' });
		world.sim.mutate.change({ segmentId: 301, count: 25 });
		world.sim.mutate.join(301, 7);
		world.sim.mutate.leave(301, 4);
		await engine.syncSegments([301, 302], { trigger: 'manual' });
		report = await loadReport(engine.store, { requestsPerMinute: 80 });
	});

	it('has a card per segment with what the health view and the run ledger say', async () => {
		expect(report.segments.map((s) => [s.id, s.name, s.health])).toEqual([
			[301, 'Hot leads', 'ok'],
			[302, 'Newsletter', 'ok'],
			[303, null, 'failing'],
		]);
		const hot = report.segments[0];
		expect(hot.members).toBe((await world.memberIds(301)).length);
		expect(hot.runs.map((r) => r.status)).toEqual(['success', 'success']);
		const ledger = await world.stack.query<{ stats: Record<string, number>; duration_seconds: string }>(
			'select stats, duration_seconds from sync_segments_logs where segment_id = 301 order by execution_time',
		);
		expect(hot.runs.map((r) => [r.leadsSeen, r.inserted, r.updated, r.left, r.detailCalls, r.durationSeconds])).toEqual(
			ledger.map(({ stats, duration_seconds }) => [stats.leads_seen, stats.inserted, stats.updated, stats.left, stats.detail_calls, Number(duration_seconds)]),
		);
		expect(hot.runs[1]).toMatchObject({ left: 4, leadsSeen: hot.members, successRate: 100 });
		expect(hot.runs[1].leadsSeen - hot.runs[0].leadsSeen).toBe(7 - 4);
		expect(hot.runs[1].updated).toBeGreaterThan(0);
		expect(hot.successRate).toBe(100);
		expect(hot.advice).toBeNull();

		const missing = report.segments[2];
		expect(missing.runs.map((r) => r.status)).toEqual(['failed']);
		expect(missing.lastRun?.message).toMatch(/303/);
		expect(missing.advice).toMatch(/SprintHub credential|segment exists/);
		expect(report.totals).toMatchObject({ segments: 3, runs: 5, failedRuns: 1, needingAttention: 1 });
	});

	it('counts every SprintHub call of the runs in the calls-per-hour series', async () => {
		const [{ total }] = await world.stack.query<{ total: string }>(`select sum((stats->>'requests')::bigint) as total from sync_segments_logs`);
		const charted = report.callsPerHour.reduce((sum, row) => sum + row.requests, 0);
		// Spread over hours and rounded per hour: equal up to one call per hour touched.
		expect(Math.abs(charted - Number(total))).toBeLessThanOrEqual(report.callsPerHour.length);
		expect(report.budget.requestsPerHour).toBe(4800);
	});

	it('renders in a real browser: cards, chart series, alert lines, no console errors, no secret', async () => {
		const html = renderReportHtml(report);
		for (const secret of [world.stack.serviceRoleKey, world.sim.token]) expect(html).not.toContain(secret);
		expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
		const file = await renderToFile(report, 'report.html');
		const { dom, consoleLines } = await openInChromium(file);
		expect(consoleLines).toEqual([]);
		const cards = [...dom.matchAll(/<article class="card[^"]*" id="segment-(\d+)" data-segment="\d+" data-health="(\w+)"/g)].map((m) => [m[1], m[2]]);
		// The segment that needs attention comes first.
		expect(cards).toEqual([
			['303', 'failing'],
			['301', 'ok'],
			['302', 'ok'],
		]);
		const series = (chart: string) => [...dom.matchAll(new RegExp(`<svg class="chart" id="${chart}"[\\s\\S]*?</svg>`, 'g'))][0]?.[0] ?? '';
		expect(series('segment-301-duration')).toMatch(/data-series="Duration" data-points="2"/);
		expect(series('segment-301-duration')).toMatch(/data-threshold="10 min"/);
		expect(series('segment-301-success')).toMatch(/data-threshold="95 %"/);
		for (const name of ['New', 'Updated', 'Left']) expect(series('segment-301-changes')).toContain(`data-series="${name}" data-points="2"`);
		expect(series('segment-301-calls')).toContain('data-series="Detail calls"');
		expect(series('calls-per-hour')).toMatch(/data-series="Calls" data-points="[1-9]/);
		expect(series('calls-per-hour')).toContain('data-threshold="Budget 4,800/h (80/min)"');
		expect(series('segment-301-duration')).toMatch(/<title id="segment-301-duration-title">Run duration<\/title>/);
		expect(dom).toMatch(/What to do:<\/strong> Check the SprintHub credential/);

		// A picture to judge by eye (not in git), at laptop and phone widths.
		await openInChromium(file, { screenshot: SCREENSHOT, width: 1280, height: 1400 });
		await openInChromium(file, { screenshot: SCREENSHOT.replace('.png', '-phone.png'), width: 390, height: 2400 });
	});
});
