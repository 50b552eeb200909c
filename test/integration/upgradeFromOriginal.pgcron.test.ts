/**
 * The original system's pg_cron job, with a real pg_cron (Debian's postgresql-15-cron) in a
 * throwaway cluster: the upgrade unschedules sync-segments-daily, which called an Edge Function
 * every morning, says so and how to restore it, takes its schedule for the segments, and leaves
 * other jobs alone. Without pg_cron installed this test fails: .ci/run installs it.
 */
import { Client } from 'pg';
import { ORIGINAL_CRON_SQL, ORIGINAL_HISTORY_SQL, ORIGINAL_SETUP_SQL } from './fixtures/originalSystem';
import { startPgCronCluster, type PgCronCluster } from '../support/pgCronCluster';
import { createSupabaseRoles } from '../support/stack';
import { supabaseDbPush } from '../support/supabaseCli';

describe('upgrade in place with pg_cron: the job sync-segments-daily', () => {
	let cluster: PgCronCluster;
	let db: Client;
	const query = async <R extends Record<string, unknown>>(sql: string) => (await db.query<R>(sql)).rows;
	const jobs = () => query<{ jobname: string; schedule: string; command: string }>('select jobname, schedule, command from cron.job order by jobid');

	beforeAll(async () => {
		cluster = await startPgCronCluster();
		db = new Client({ connectionString: cluster.databaseUrl });
		await db.connect();
		await createSupabaseRoles(db);
		await db.query(ORIGINAL_SETUP_SQL);
		await db.query(ORIGINAL_CRON_SQL);
		await db.query(ORIGINAL_HISTORY_SQL);
		// A job of the user's own, which the upgrade has no business with.
		await db.query(`select cron.schedule('vacuum-nightly', '0 3 * * *', 'VACUUM ANALYZE public.sync_segments_logs')`);
	});
	afterAll(async () => {
		await db?.end();
		await cluster?.stop();
	});

	it('db push --include-roles unschedules it, says so and how to restore it, and keeps its schedule for the segments', async () => {
		expect(await jobs()).toEqual([
			{ jobname: 'sync-segments-daily', schedule: '0 6 * * *', command: 'SELECT sync_segment_leads_via_edge_function();' },
			{ jobname: 'vacuum-nightly', schedule: '0 3 * * *', command: 'VACUUM ANALYZE public.sync_segments_logs' },
		]);
		const push = await supabaseDbPush(cluster.databaseUrl, ['--include-roles']);
		expect({ code: push.code, output: push.code === 0 ? '' : push.output }).toEqual({ code: 0, output: '' });

		expect(await jobs()).toEqual([{ jobname: 'vacuum-nightly', schedule: '0 3 * * *', command: 'VACUUM ANALYZE public.sync_segments_logs' }]);
		const notes = (await query<{ note: string }>('select note from sync_internal.upgrade_notes order by id')).map((row) => row.note).join('\n');
		expect(notes).toContain(
			"pg_cron job sync-segments-daily (0 6 * * *: SELECT sync_segment_leads_via_edge_function();) unscheduled: it ran the segments through an Edge Function",
		);
		expect(notes).toContain(
			"To schedule it again: select cron.schedule('sync-segments-daily', '0 6 * * *', 'SELECT sync_segment_leads_via_edge_function();');",
		);
		expect(notes).toContain("schedule '0 6 * * *' (the pg_cron job sync-segments-daily), read in UTC");
		expect(await query(`select segment_id::int, status, schedule, schedule_timezone from sync_segments_control order by segment_id`)).toEqual([
			{ segment_id: 123, status: 'active', schedule: '0 6 * * *', schedule_timezone: 'UTC' },
			{ segment_id: 456, status: 'active', schedule: '0 6 * * *', schedule_timezone: 'UTC' },
			{ segment_id: 789, status: 'paused', schedule: '0 6 * * *', schedule_timezone: 'UTC' },
		]);
		// The monitoring queries of the original README still answer.
		await query('SELECT * FROM cron.job_run_details ORDER BY start_time DESC LIMIT 10;');
	});

	it('what the job called is now "make the active segments due", and a second push changes nothing', async () => {
		await query('SELECT sync_segment_leads_via_edge_function();');
		expect(await query(`select segment_id::int, next_execution <= now() as due from sync_segments_control order by segment_id`)).toEqual([
			{ segment_id: 123, due: true },
			{ segment_id: 456, due: true },
			{ segment_id: 789, due: false },
		]);
		const jobsBefore = await jobs();
		const notesBefore = await query('select * from sync_internal.upgrade_notes order by id');
		const push = await supabaseDbPush(cluster.databaseUrl, ['--include-roles']);
		expect(push.code).toBe(0);
		expect(push.output).toMatch(/up to date/i);
		expect(await jobs()).toEqual(jobsBefore);
		expect(await query('select * from sync_internal.upgrade_notes order by id')).toEqual(notesBefore);
	});
});
