import { startStack, type Stack } from '../support/stack';
import { SyncStore } from '../../engine/store';

/**
 * Retention as a user meets it: sync_prune() from SQL and store.prune() (what Sync Due and
 * `sprinthub-sync prune` call) against real Postgres and PostgREST, with the project's settings in
 * sync_settings.
 */

let stack: Stack;
let store: SyncStore;

beforeAll(async () => {
	stack = await startStack();
	store = SyncStore.connect({ url: stack.supabaseUrl, serviceRoleKey: stack.serviceRoleKey });
});
afterAll(async () => {
	await stack?.stop();
});

/** A finished run of a segment, `daysAgo` days ago; returns its run id. */
async function pastRun(segmentId: number, daysAgo: number, status = 'success'): Promise<string> {
	const [row] = await stack.query<{ run_id: string }>(
		`insert into sync_segments_logs (segment_id, execution_time, finished_at, status, message)
		 values ($1, now() - make_interval(days => $2), case when $3 <> 'running' then now() - make_interval(days => $2) + interval '5 minutes' end, $3, 'past run')
		 returning run_id::text`,
		[segmentId, daysAgo, status],
	);
	return row.run_id;
}

async function runIds(segmentId: number): Promise<string[]> {
	const rows = await stack.query<{ run_id: string }>(`select run_id::text from sync_segments_logs where segment_id = $1 order by execution_time`, [segmentId]);
	return rows.map((r) => r.run_id);
}

async function quarantine(segmentId: number, leadId: number, resolvedDaysAgo: number | null, lastRunId: string | null = null): Promise<void> {
	await stack.query(
		`insert into sync_quarantine (segment_id, lead_id, stage, error, payload, first_failed_at, last_failed_at, last_run_id, resolved_at, resolution)
		 values ($1, $2, 'write', 'bad value', '{"id": 1, "big": "payload"}', now() - interval '400 days', now() - interval '400 days', $4::uuid,
			case when $3::int is not null then now() - make_interval(days => $3::int) end, case when $3::int is not null then 'written' end)`,
		[segmentId, leadId, resolvedDaysAgo, lastRunId],
	);
}

async function member(segmentId: number, leadId: number, leftDaysAgo: number | null): Promise<void> {
	await stack.query(
		`insert into sync_segment_leads (segment_id, lead_id, joined_at, left_at)
		 values ($1, $2, now() - interval '3 years', case when $3::int is not null then now() - make_interval(days => $3::int) end)`,
		[segmentId, leadId, leftDaysAgo],
	);
}

async function resetPruneClock(): Promise<void> {
	await stack.query(`update sync_settings set last_pruned_at = null`);
}

describe('defaults: run logs 90 days, resolved quarantine 30 days, left memberships kept', () => {
	test('the settings row is there with the defaults, and a bad value names what to fix', async () => {
		expect(await stack.query(`select log_retention_days, quarantine_retention_days, left_membership_retention_days from sync_settings`)).toEqual([
			{ log_retention_days: 90, quarantine_retention_days: 30, left_membership_retention_days: null },
		]);
		await expect(stack.query(`update sync_settings set log_retention_days = 0`)).rejects.toThrow('log_retention_days must be at least 1 day, not 0');
		await expect(stack.query(`insert into sync_settings (id) values (false)`)).rejects.toThrow('sync_settings_single_row_check');
	});

	test('old finished run logs go; recent ones, running ones, the latest of each segment and a checkpoint\'s run stay', async () => {
		await stack.query(`select sync_add_segment(10, 'logs', '1 day')`);
		const old = await pastRun(10, 200);
		const oldFailed = await pastRun(10, 91, 'failed');
		const stuckRunning = await pastRun(10, 150, 'running');
		const recent = await pastRun(10, 89);
		const latest = await pastRun(10, 1);
		// Segment 11 ran last 300 days ago: that run stays, it is what its health shows.
		await stack.query(`select sync_add_segment(11, 'idle', '1 day')`);
		const olderOnly = await pastRun(11, 400);
		const lastOnly = await pastRun(11, 300);
		// Segment 12's unfinished pass resumes from a run of 120 days ago.
		await stack.query(`select sync_add_segment(12, 'checkpointed', '1 day')`);
		const checkpointed = await pastRun(12, 120, 'partial');
		await pastRun(12, 2, 'partial');
		await stack.query(`update sync_segments_control set checkpoint = '{"page": 3}', checkpoint_run_id = $1 where segment_id = 12`, [checkpointed]);

		const result = await stack.query<{ r: Record<string, unknown> }>(`select sync_prune() as r`);
		expect(result[0].r).toMatchObject({ pruned: true, logs: 3, quarantine: 0, memberships: 0 });
		expect(await runIds(10)).toEqual([stuckRunning, recent, latest]);
		expect(await runIds(11)).toEqual([lastOnly]);
		expect(await runIds(12)).toHaveLength(2);
		expect(await runIds(12)).toContain(checkpointed);
		for (const gone of [old, oldFailed, olderOnly]) {
			expect(await stack.query(`select run_id from sync_segments_logs where run_id = $1`, [gone])).toEqual([]);
		}
	});

	test('resolved quarantine rows (and their payloads) go after 30 days; open ones stay however old', async () => {
		await quarantine(20, 1, 31);
		await quarantine(20, 2, 29);
		await quarantine(20, 3, null);
		await resetPruneClock();
		const [{ r }] = await stack.query<{ r: Record<string, unknown> }>(`select sync_prune() as r`);
		expect(r).toMatchObject({ quarantine: 1 });
		expect(await stack.query(`select lead_id::int, resolved_at is null as open from sync_quarantine where segment_id = 20 order by lead_id`)).toEqual([
			{ lead_id: 2, open: false },
			{ lead_id: 3, open: true },
		]);
	});

	test('left memberships are kept unless configured; then old ones go, current members stay', async () => {
		await member(30, 1, null);
		await member(30, 2, 1000);
		await member(30, 3, 10);
		await stack.query(`select sync_prune()`);
		expect(await stack.query(`select count(*)::int as n from sync_segment_leads where segment_id = 30`)).toEqual([{ n: 3 }]);

		await stack.query(`update sync_settings set left_membership_retention_days = 365`);
		const [{ r }] = await stack.query<{ r: Record<string, unknown> }>(`select sync_prune() as r`);
		expect(r).toMatchObject({ memberships: 1, settings: { left_membership_retention_days: 365 } });
		expect(await stack.query(`select lead_id::int from sync_segment_leads where segment_id = 30 order by 1`)).toEqual([{ lead_id: 1 }, { lead_id: 3 }]);
		await stack.query(`update sync_settings set left_membership_retention_days = null`);
	});
});

describe('per project settings', () => {
	test('shorter and longer retention, and NULL keeps everything', async () => {
		await stack.query(`select sync_add_segment(40, 'settings', '1 day')`);
		const sixty = await pastRun(40, 60);
		const twenty = await pastRun(40, 20);
		const latest = await pastRun(40, 0);
		await stack.query(`update sync_settings set log_retention_days = null`);
		await stack.query(`select sync_prune()`);
		expect(await runIds(40)).toEqual([sixty, twenty, latest]);
		await stack.query(`update sync_settings set log_retention_days = 30`);
		await stack.query(`select sync_prune()`);
		expect(await runIds(40)).toEqual([twenty, latest]);
		await stack.query(`update sync_settings set log_retention_days = 90`);
	});
});

describe('a running run', () => {
	test('its log row, its quarantine rows and its segment\'s memberships are left alone', async () => {
		await stack.query(`select sync_add_segment(50, 'busy', '1 day')`);
		await stack.query(`update sync_settings set left_membership_retention_days = 30, log_retention_days = 1`);
		const [claim] = await store.claim({ worker: 'retention-test', segmentIds: [50], trigger: 'manual' });
		expect(claim.outcome).toBe('claimed');
		const runId = claim.run_id!;
		// Even a log row that looks old: a run is never pruned while it is running.
		await stack.query(`update sync_segments_logs set execution_time = now() - interval '10 days' where run_id = $1`, [runId]);
		await quarantine(50, 1, 40, runId);
		await member(50, 2, 400);

		const result = await store.prune();
		expect(result).toMatchObject({ pruned: true });
		expect(await runIds(50)).toEqual([runId]);
		expect(await stack.query(`select count(*)::int as n from sync_quarantine where segment_id = 50`)).toEqual([{ n: 1 }]);
		expect(await stack.query(`select count(*)::int as n from sync_segment_leads where segment_id = 50`)).toEqual([{ n: 1 }]);

		// Once it has finished, it is a run like any other.
		await store.finish(runId, { status: 'success' });
		await stack.query(`update sync_segments_logs set finished_at = now() - interval '9 days' where run_id = $1`, [runId]);
		await pastRun(50, 0);
		await resetPruneClock();
		expect(await store.prune()).toMatchObject({ logs: 1, quarantine: 1, memberships: 1 });
		await stack.query(`update sync_settings set left_membership_retention_days = null, log_retention_days = 90`);
	});
});

describe('at most once a day when only due', () => {
	test('Sync Due\'s call prunes, then does nothing until a day has passed; a plain call always prunes', async () => {
		await resetPruneClock();
		const first = await store.prune({ onlyIfDue: true });
		expect(first).toMatchObject({ pruned: true });
		const second = await store.prune({ onlyIfDue: true });
		expect(second).toMatchObject({ pruned: false, reason: 'pruned less than a day ago' });
		expect(await store.prune()).toMatchObject({ pruned: true });

		await stack.query(`update sync_settings set last_pruned_at = now() - interval '25 hours'`);
		expect(await store.prune({ onlyIfDue: true })).toMatchObject({ pruned: true });
		const [settings] = await stack.query<{ last_prune: Record<string, unknown> }>(`select last_prune from sync_settings`);
		expect(settings.last_prune).toMatchObject({ logs: 0, quarantine: 0, memberships: 0 });
	});
});
