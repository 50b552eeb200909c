-- SprintHub Segment Sync: the original system's SQL keeps working on a database upgraded from it
-- (supabase/roles.sql upgraded its tables before the first migration).
--   select sync_segment_leads_via_edge_function();  -- "run now": the active segments are due at once
--   select log_sync_execution(123, 'success', 'done', '{}', 42, 100);  -- still writes a run row
-- and the pg_cron job sync-segments-daily, which called an Edge Function this package replaces,
-- is unscheduled. On a database without the original functions and job, nothing here applies.
-- Re-runnable.

-- What was done: a NOTICE and a row in sync_internal.upgrade_notes (db push prints no NOTICE).
create or replace function pg_temp.sync_upgrade_note(p_note text)
returns void
language plpgsql
as $$
begin
	raise notice '%', p_note;
	create table if not exists sync_internal.upgrade_notes (
		id bigserial primary key,
		noted_at timestamptz not null default now(),
		note text not null
	);
	insert into sync_internal.upgrade_notes (note) values (p_note);
end;
$$;

-- The original control table's id column: segments added through sync_add_segment (run by
-- service_role) take their id from its sequence.
do $$
begin
	if to_regclass('public.sync_segments_control_id_seq') is not null then
		revoke all on sequence public.sync_segments_control_id_seq from public, anon, authenticated;
		grant usage, select on sequence public.sync_segments_control_id_seq to service_role;
	end if;
end $$;

-- "Run now" of the original README. It called the Edge Function for each due segment; now it
-- makes every active segment due at once (as sync_run_segment_now does one), and the next Sync Due
-- run starts them: the n8n workflow's trigger, or `sprinthub-sync sync-due`. It cannot start them
-- itself: a sync runs in n8n or the CLI, not in the database.
do $do$
declare
	v_taken_over boolean;
begin
	if to_regprocedure('public.sync_segment_leads_via_edge_function()') is null then
		return;
	end if;
	v_taken_over := obj_description('public.sync_segment_leads_via_edge_function()'::regprocedure, 'pg_proc') like 'SprintHub Segment Sync:%';
	execute $ddl$
		create or replace function public.sync_segment_leads_via_edge_function()
		returns void
		language plpgsql volatile
		set search_path = public, pg_temp
		as $fn$
		declare
			v_ids bigint[];
		begin
			with due as (
				update sync_segments_control c set next_execution = now(), run_requested_at = now()
				where c.status = 'active'
				returning c.segment_id
			)
			select coalesce(array_agg(d.segment_id order by d.segment_id), '{}') into v_ids from due d;
			raise notice '% active segment(s) due now%: the next Sync Due run starts them (the n8n workflow''s trigger, or sprinthub-sync sync-due).',
				cardinality(v_ids), case when cardinality(v_ids) > 0 then format(' (%s)', array_to_string(v_ids, ', ')) else '' end;
		end;
		$fn$
	$ddl$;
	comment on function public.sync_segment_leads_via_edge_function() is
		'SprintHub Segment Sync: makes every active segment due now; the next Sync Due run (n8n or sprinthub-sync sync-due) starts them. Calls no Edge Function.';
	revoke execute on function public.sync_segment_leads_via_edge_function() from public, anon, authenticated;
	grant execute on function public.sync_segment_leads_via_edge_function() to service_role;
	if not coalesce(v_taken_over, false) then
		perform pg_temp.sync_upgrade_note(
			'sync_segment_leads_via_edge_function() replaced: it no longer calls an Edge Function; it makes every active segment due now, '
			'and the next Sync Due run (n8n, or sprinthub-sync sync-due) starts them. Executable by service_role only.');
	end if;
end $do$;

-- The original run logger, for whatever still calls it (the old Edge Function, scripts). Its
-- 'error' is the package's 'failed'; the row is closed (finished now, started p_duration_seconds
-- earlier) and names its writer in `worker`.
do $do$
declare
	v_taken_over boolean;
begin
	if to_regprocedure('public.log_sync_execution(integer, text, text, jsonb, numeric, numeric)') is null then
		return;
	end if;
	v_taken_over := obj_description('public.log_sync_execution(integer, text, text, jsonb, numeric, numeric)'::regprocedure, 'pg_proc') like 'SprintHub Segment Sync:%';
	execute $ddl$
		create or replace function public.log_sync_execution(
			p_segment_id integer,
			p_status text,
			p_message text,
			p_stats jsonb default null,
			p_duration_seconds numeric default null,
			p_success_rate numeric default null)
		returns void
		language plpgsql volatile
		set search_path = public, pg_temp
		as $fn$
		declare
			v_status text := case when p_status = 'error' then 'failed' else p_status end;
		begin
			if v_status is null or v_status not in ('success', 'partial', 'rate_limited', 'failed', 'cancelled', 'skipped') then
				raise exception using errcode = '22023',
					message = format('p_status must be success or error (or partial, rate_limited, failed, cancelled, skipped), not %L', p_status);
			end if;
			if p_duration_seconds < 0 then
				raise exception using errcode = '22023', message = 'p_duration_seconds must not be negative';
			end if;
			insert into sync_segments_logs (segment_id, execution_time, finished_at, status, message, stats, duration_seconds, success_rate, worker)
			values (p_segment_id, now() - make_interval(secs => coalesce(p_duration_seconds, 0)::double precision), now(), v_status,
				p_message, coalesce(p_stats, '{}'::jsonb), p_duration_seconds, p_success_rate, 'log_sync_execution');
		end;
		$fn$
	$ddl$;
	comment on function public.log_sync_execution(integer, text, text, jsonb, numeric, numeric) is
		'SprintHub Segment Sync: the original system''s run logger; writes one finished row in sync_segments_logs (''error'' is written as ''failed'').';
	revoke execute on function public.log_sync_execution(integer, text, text, jsonb, numeric, numeric) from public, anon, authenticated;
	grant execute on function public.log_sync_execution(integer, text, text, jsonb, numeric, numeric) to service_role;
	if not coalesce(v_taken_over, false) then
		perform pg_temp.sync_upgrade_note(
			'log_sync_execution(...) replaced: it still writes one run row in sync_segments_logs (''error'' as ''failed'', worker log_sync_execution). '
			'Executable by service_role only.');
	end if;
end $do$;

-- The pg_cron job of setup-cron-sync.sql ran the segments through an Edge Function every day.
-- The segments now run on their own schedules (taken from that job by supabase/roles.sql) when
-- the n8n workflow's trigger fires, so the job is unscheduled; the note says how to restore it.
-- A job that cannot be unscheduled stays, harmless: the function it calls only makes segments due.
do $do$
declare
	v_job record;
begin
	if to_regclass('cron.job') is null then
		return;
	end if;
	for v_job in execute $q$
		select j.jobid, j.jobname::text as jobname, j.schedule, j.command from cron.job j
		where j.command ~* 'sync_segment_leads_via_edge_function' order by j.jobid$q$
	loop
		if v_job.jobname = 'sync-segments-daily' then
			begin
				execute 'select cron.unschedule($1)' using v_job.jobid;
				perform pg_temp.sync_upgrade_note(format(
					'pg_cron job sync-segments-daily (%s: %s) unscheduled: it ran the segments through an Edge Function, which the n8n workflow '
					'(or sprinthub-sync sync-due) replaces; each segment now runs on its own schedule. To schedule it again: select cron.schedule(%L, %L, %L);',
					v_job.schedule, v_job.command, v_job.jobname, v_job.schedule, v_job.command));
			exception when others then
				perform pg_temp.sync_upgrade_note(format(
					'pg_cron job sync-segments-daily could not be unscheduled (%s); it stays and now only makes the active segments due every %s. '
					'Remove it with: select cron.unschedule(%L);', sqlerrm, v_job.schedule, v_job.jobname));
			end;
		else
			perform pg_temp.sync_upgrade_note(format(
				'pg_cron job %s (%s) calls sync_segment_leads_via_edge_function(): left as it is; it now makes the active segments due at that schedule.',
				coalesce(v_job.jobname, v_job.jobid::text), v_job.schedule));
		end if;
	end loop;
end $do$;

notify pgrst, 'reload schema';
