import { NodeOperationError } from 'n8n-workflow';
import type { SyncReport } from '../../engine';
import { startSyncWorld, type SyncWorld } from '../support/world';
import { NodeRunner } from './support/fixtures';
import { stopN8n } from './support/n8n';

/** Sync Health → Report through a real n8n execution context, on a real database after a real sync. */
let world: SyncWorld;
let runner: NodeRunner;

beforeAll(async () => {
	world = await startSyncWorld({ segments: [{ id: 211, name: 'Trial users', size: 60 }, { id: 212, name: 'Churned', size: 30 }] });
	runner = new NodeRunner(world);
});

afterAll(async () => {
	stopN8n();
	await world?.stop();
});

test('on an empty database the page says how to register a segment', async () => {
	const run = await runner.run({ resource: 'syncHealth', operation: 'report', format: 'html' });
	expect(run.error).toBeUndefined();
	expect(run.main).toHaveLength(1);
	expect(run.main[0].json).toMatchObject({ segments: 0, needingAttention: 0, contentType: 'text/html; charset=utf-8' });
	expect(run.main[0].json.html).toContain('No segment is registered yet');
});

describe('after a sync', () => {
	beforeAll(async () => {
		for (const [id, name] of [[211, 'Trial users'], [212, 'Churned']] as const) await world.stack.query('select sync_add_segment($1, $2)', [id, name]);
		await world.engine().syncSegments([211, 212], { trigger: 'manual' });
	});

	test('HTML: one page per input item with a card and charts per segment', async () => {
		const run = await runner.run({ resource: 'syncHealth', operation: 'report', format: 'html', options: { days: 7 } }, { items: [{}, {}] });
		expect(run.error).toBeUndefined();
		expect(run.main.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
		const html = String(run.main[0].json.html);
		expect(run.main[0].json).toMatchObject({ segments: 2, needingAttention: 0, days: 7 });
		expect(html).toContain('Last 7 days');
		for (const id of [211, 212]) {
			expect(html).toContain(`id="segment-${id}" data-segment="${id}" data-health="ok"`);
			expect(html).toContain(`<svg class="chart" id="segment-${id}-duration"`);
		}
		expect(html).toContain('Trial users (211)');
	});

	test('JSON: the figures, with the thresholds and budget asked for', async () => {
		const run = await runner.run({
			resource: 'syncHealth',
			operation: 'report',
			format: 'json',
			options: { requestsPerMinute: 100, minSuccessRate: 90, maxRunMinutes: 20 },
		});
		expect(run.error).toBeUndefined();
		const report = run.main[0].json as unknown as SyncReport;
		expect(report.budget).toEqual({ requestsPerMinute: 100, requestsPerHour: 6000 });
		expect(report.thresholds).toMatchObject({ minSuccessRate: 90, maxRunMinutes: 20 });
		expect(report.segments.map((s) => [s.id, s.name, s.runs.length, s.members])).toEqual([
			[211, 'Trial users', 1, (await world.memberIds(211)).length],
			[212, 'Churned', 1, (await world.memberIds(212)).length],
		]);
		expect(report.callsPerHour.reduce((sum, row) => sum + row.requests, 0)).toBeGreaterThan(0);
	});

	test('a bad Days is a NodeOperationError that says what to set', async () => {
		const run = await runner.run({ resource: 'syncHealth', operation: 'report', format: 'html', options: { days: 0 } });
		expect(run.error).toBeInstanceOf(NodeOperationError);
		expect(run.error!.message).toMatch(/Days must be a whole number from 1 to 366/);
	});
});

test('no run showed the token or the service key', () => {
	const visible = runner.visible();
	for (const secret of runner.secrets()) expect(visible).not.toContain(secret);
});
