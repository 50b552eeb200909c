-- SprintHub Segment Sync: what must happen before the first migration, on a database that has
-- the original system's tables (setup-cron-sync.sql: pg_cron + an Edge Function) or a leads table
-- of its own. This file creates no roles: it is here because `supabase db push --include-roles`
-- runs supabase/roles.sql before any migration, untracked (so are `supabase start` and
-- `supabase db reset` locally). That is the only step the CLI runs before 20261129000100, which
-- fails on the original tables. An earlier-versioned migration would run there too, but
-- `db push` refuses a migration older than the last one applied (it asks for --include-all), so
-- every database that already has the package would stop taking new migrations.
--   1. A public.leads that is not this package's stops everything, untouched.
--   2. The original sync_segments_logs and sync_segments_control are upgraded in place: columns
--      added with their defaults, duplicated segments merged, old ids and every old run kept.
-- The original functions and the pg_cron job are taken over by migration
-- 20261201000900_original_system_compat.sql, once the package's functions exist.
-- Re-runnable; nothing happens on a database that has neither these tables nor a foreign leads table,
-- or that already has the package.

-- What the upgrade did: a NOTICE (psql, the SQL editor) and a row in sync_internal.upgrade_notes,
-- because `supabase db push` does not print NOTICEs.
create or replace function pg_temp.sync_upgrade_note(p_note text)
returns void
language plpgsql
as $$
begin
	raise notice '%', p_note;
	create schema if not exists sync_internal;
	revoke all on schema sync_internal from public;
	create table if not exists sync_internal.upgrade_notes (
		id bigserial primary key,
		noted_at timestamptz not null default now(),
		note text not null
	);
	insert into sync_internal.upgrade_notes (note) values (p_note);
end;
$$;

-- 1. public.leads, when it exists, must be this package's (these columns, these types): the
-- migrations add indexes, columns and row level security to it and write leads into it.
do $$
declare
	v_kind "char";
	v_columns text[];
	v_missing text[];
	v_what text;
begin
	select c.relkind into v_kind from pg_class c where c.oid = to_regclass('public.leads');
	if v_kind is null then
		return;
	end if;
	select array_agg(a.attname::text order by a.attnum) into v_columns
	from pg_attribute a where a.attrelid = 'public.leads'::regclass and a.attnum > 0 and not a.attisdropped;
	select array_agg(format('%s %s', r.name, r.type) order by r.ord) into v_missing
	from (values (1, 'id', 'bigint'), (2, 'raw', 'jsonb'), (3, 'change_marker', 'text'), (4, 'enriched_at', 'timestamp with time zone'),
		(5, 'written_at', 'timestamp with time zone'), (6, 'first_written_at', 'timestamp with time zone'), (7, 'cast_problems', 'jsonb')) as r(ord, name, type)
	where not exists (
		select 1 from pg_attribute a
		where a.attrelid = 'public.leads'::regclass and a.attname = r.name and not a.attisdropped
			and format_type(a.atttypid, a.atttypmod) = r.type);
	if v_kind = 'r' and v_missing is null then
		return;
	end if;
	v_what := case v_kind when 'r' then 'table' when 'p' then 'partitioned table' when 'v' then 'view'
		when 'm' then 'materialized view' when 'f' then 'foreign table' else 'relation' end;
	raise exception using
		errcode = '42P07',
		message = format(
			'public.leads is not this package''s leads table: it is a %s with %s columns (%s%s)%s. '
			'The package keeps SprintHub leads in public.leads, so nothing was changed and no migration was applied. '
			'To proceed, rename yours and run the same command again, e.g. alter %s public.leads rename to leads_before_sprinthub_sync; '
			'(then point whatever reads it at the new name). The package then creates its own public.leads; yours stays as it is.',
			v_what, coalesce(cardinality(v_columns), 0),
			array_to_string(v_columns[1:12], ', '), case when cardinality(v_columns) > 12 then ', …' else '' end,
			case when v_missing is not null then format(' and lacks %s', array_to_string(v_missing, ', ')) else '' end,
			case v_kind when 'v' then 'view' when 'm' then 'materialized view' when 'f' then 'foreign table' else 'table' end);
end $$;

-- 2a. The original run log: `id serial, segment_id integer, execution_time, status ('success',
-- 'error'), message, stats, duration_seconds, success_rate`. Every row stays as written (status
-- included); the package's columns are added, each old run getting its own run_id.
do $$
declare
	v_runs bigint;
	v_fixed bigint;
	v_first timestamptz;
	v_old_statuses text;
begin
	if to_regclass('public.sync_segments_logs') is null then
		return;
	end if;
	if not exists (
		select 1 from unnest(array['run_id', 'trigger', 'worker', 'finished_at', 'error_class', 'resumed_from']) as c(name)
		where not exists (select 1 from information_schema.columns i
			where i.table_schema = 'public' and i.table_name = 'sync_segments_logs' and i.column_name = c.name)
	) and not exists (
		select 1 from information_schema.columns i
		where i.table_schema = 'public' and i.table_name = 'sync_segments_logs' and i.column_name in ('id', 'segment_id') and i.data_type <> 'bigint'
	) then
		return;
	end if;

	select count(*), min(execution_time) into v_runs, v_first from public.sync_segments_logs;
	update public.sync_segments_logs set stats = '{}'::jsonb where stats is null;
	-- execution_time orders the runs (newest first in the health view): a run without one sorts as the oldest.
	update public.sync_segments_logs set execution_time = coalesce(v_first, now()) where execution_time is null;
	get diagnostics v_fixed = row_count;
	if v_fixed > 0 then
		perform pg_temp.sync_upgrade_note(format(
			'sync_segments_logs: %s old run(s) had no execution_time; they now carry %s, the oldest time in the table.', v_fixed, coalesce(v_first, now())));
	end if;

	alter table public.sync_segments_logs
		alter column id type bigint,
		alter column segment_id type bigint,
		alter column execution_time set default now(),
		alter column execution_time set not null,
		alter column status set default 'running',
		alter column stats set default '{}'::jsonb,
		alter column stats set not null,
		add column if not exists run_id uuid not null default gen_random_uuid(),
		add column if not exists trigger text not null default 'schedule',
		add column if not exists worker text,
		add column if not exists finished_at timestamptz,
		add column if not exists error_class text,
		add column if not exists resumed_from uuid;
	alter sequence if exists public.sync_segments_logs_id_seq as bigint;

	-- The package's status check (20261129000100 adds it only when absent). Old runs keep the
	-- statuses they were written with ('error' for a failed run): then the check holds for new
	-- rows only (NOT VALID), and readers count 'error' as a failed run.
	if not exists (select 1 from pg_constraint where conname = 'sync_segments_logs_status_check') then
		select string_agg(format('%s (%s run%s)', s.status, s.n, case when s.n > 1 then 's' else '' end), ', ' order by s.status) into v_old_statuses
		from (
			select l.status, count(*) as n from public.sync_segments_logs l
			where l.status not in ('running', 'success', 'partial', 'rate_limited', 'failed', 'cancelled', 'skipped')
			group by l.status
		) s;
		if v_old_statuses is null then
			alter table public.sync_segments_logs add constraint sync_segments_logs_status_check
				check (status in ('running', 'success', 'partial', 'rate_limited', 'failed', 'cancelled', 'skipped'));
		else
			alter table public.sync_segments_logs add constraint sync_segments_logs_status_check
				check (status in ('running', 'success', 'partial', 'rate_limited', 'failed', 'cancelled', 'skipped')) not valid;
			perform pg_temp.sync_upgrade_note(format(
				'sync_segments_logs: old runs keep the status they were written with: %s. New runs use the package''s statuses '
				'(a failed run is ''failed''; log_sync_execution writes ''error'' as ''failed''); the health view and sprinthub-sync status count ''error'' as a failed run.',
				v_old_statuses));
		end if;
	end if;

	perform pg_temp.sync_upgrade_note(format(
		'sync_segments_logs upgraded in place: its %s old run(s) kept with their ids; added run_id (one per old run), trigger, worker, finished_at, error_class, resumed_from.',
		v_runs));
end $$;

-- 2b. The original control table: `id serial, segment_id integer (no unique constraint, so
-- duplicates exist), last_execution, next_execution, status, created_at, updated_at`.
do $$
declare
	v_columns_missing boolean;
	v_segment_attnum smallint;
	v_unique boolean;
	v_statuses text;
	v_job_schedule text;
	v_schedule text := '0 6 * * *';
	v_timezone text := 'UTC';
	v_schedule_source text := 'the schedule setup-cron-sync.sql gave the pg_cron job';
	v_segments text;
	v_dup record;
	v_kept record;
begin
	if to_regclass('public.sync_segments_control') is null then
		return;
	end if;
	v_columns_missing := exists (
		select 1 from unnest(array['segment_name', 'schedule', 'schedule_timezone', 'last_status', 'last_success_at',
			'consecutive_failures', 'max_consecutive_failures', 'lease_owner', 'lease_run_id', 'lease_expires_at', 'lease_seconds',
			'lease_run_seconds', 'checkpoint', 'checkpoint_run_id', 'checkpoint_at', 'pass_id', 'pass_started_at', 'run_requested_at',
			'enrichment_mode', 'full_refresh_days', 'max_leave_share', 'leave_guard_min_leads', 'options', 'created_at', 'updated_at']) as c(name)
		where not exists (select 1 from information_schema.columns i
			where i.table_schema = 'public' and i.table_name = 'sync_segments_control' and i.column_name = c.name));
	select a.attnum into v_segment_attnum from pg_attribute a
	where a.attrelid = 'public.sync_segments_control'::regclass and a.attname = 'segment_id' and not a.attisdropped;
	v_unique := exists (
		select 1 from pg_index i
		where i.indrelid = 'public.sync_segments_control'::regclass and i.indisunique and i.indpred is null
			and i.indnkeyatts = 1 and i.indkey[0] = v_segment_attnum);
	if not v_columns_missing and v_unique
		and (select format_type(a.atttypid, a.atttypmod) from pg_attribute a
			where a.attrelid = 'public.sync_segments_control'::regclass and a.attnum = v_segment_attnum) = 'bigint' then
		return;
	end if;

	-- The package's columns, with their defaults.
	alter table public.sync_segments_control
		add column if not exists segment_name text,
		add column if not exists schedule text not null default '1 day',
		add column if not exists schedule_timezone text not null default 'UTC',
		add column if not exists last_status text,
		add column if not exists last_success_at timestamptz,
		add column if not exists consecutive_failures integer not null default 0,
		add column if not exists max_consecutive_failures integer not null default 5,
		add column if not exists lease_owner text,
		add column if not exists lease_run_id uuid,
		add column if not exists lease_expires_at timestamptz,
		add column if not exists lease_seconds integer not null default 300,
		add column if not exists lease_run_seconds integer,
		add column if not exists checkpoint jsonb,
		add column if not exists checkpoint_run_id uuid,
		add column if not exists checkpoint_at timestamptz,
		add column if not exists pass_id uuid,
		add column if not exists pass_started_at timestamptz,
		add column if not exists run_requested_at timestamptz,
		add column if not exists enrichment_mode text not null default 'changed',
		add column if not exists full_refresh_days integer default 30,
		add column if not exists max_leave_share numeric not null default 0.5,
		add column if not exists leave_guard_min_leads integer not null default 10,
		add column if not exists options jsonb not null default '{}'::jsonb,
		add column if not exists created_at timestamptz not null default now(),
		add column if not exists updated_at timestamptz not null default now();

	-- The original synced only 'active' rows: any other status (or none) becomes 'paused'.
	select string_agg(format('segment %s (%s)', c.segment_id, coalesce(c.status, 'no status')), ', ' order by c.segment_id) into v_statuses
	from public.sync_segments_control c where c.status is null or c.status not in ('active', 'paused', 'error');
	if v_statuses is not null then
		update public.sync_segments_control set status = 'paused' where status is null or status not in ('active', 'paused', 'error');
		perform pg_temp.sync_upgrade_note(format(
			'sync_segments_control: %s had a status the package does not know (active, paused, error); now paused, as the original system did not sync them. Resume one with select sync_resume_segment(<id>);',
			v_statuses));
	end if;
	-- The original ran a segment without next_execution at its next call: due now.
	update public.sync_segments_control set next_execution = now() where next_execution is null;
	update public.sync_segments_control set created_at = coalesce(created_at, now()), updated_at = coalesce(updated_at, now())
	where created_at is null or updated_at is null;

	-- Duplicated segments (the original's ON CONFLICT DO NOTHING had no constraint to conflict
	-- with): the row first registered stays, carrying what keeps the segment syncing as before:
	-- active if any row was (the original ran every active row), else paused, else error; the
	-- earliest next_execution among the rows of that status; the latest last_execution.
	if not v_unique then
		for v_dup in
			select c.segment_id, array_agg(c.id order by c.id) as ids,
				case when bool_or(c.status = 'active') then 'active' when bool_or(c.status = 'paused') then 'paused' else 'error' end as status
			from public.sync_segments_control c
			group by c.segment_id
			having count(*) > 1
			order by c.segment_id
		loop
			update public.sync_segments_control c
			set status = v_dup.status,
				next_execution = (select min(x.next_execution) from public.sync_segments_control x where x.segment_id = v_dup.segment_id and x.status = v_dup.status),
				last_execution = (select max(x.last_execution) from public.sync_segments_control x where x.segment_id = v_dup.segment_id),
				created_at = (select min(x.created_at) from public.sync_segments_control x where x.segment_id = v_dup.segment_id),
				updated_at = now()
			where c.id = v_dup.ids[1]
			returning c.id, c.status, c.next_execution, c.last_execution into v_kept;
			delete from public.sync_segments_control c where c.segment_id = v_dup.segment_id and c.id <> v_dup.ids[1];
			perform pg_temp.sync_upgrade_note(format(
				'sync_segments_control: segment %s was registered %s times (ids %s); merged into id %s: status %s, next_execution %s, last_execution %s. The other rows were deleted.',
				v_dup.segment_id, cardinality(v_dup.ids), array_to_string(v_dup.ids, ', '), v_kept.id, v_kept.status,
				v_kept.next_execution, coalesce(v_kept.last_execution::text, 'none')));
		end loop;
		alter table public.sync_segments_control add constraint sync_segments_control_segment_id_key unique (segment_id);
	end if;

	alter table public.sync_segments_control
		alter column segment_id type bigint,
		alter column status set default 'active',
		alter column status set not null,
		alter column next_execution set default now(),
		alter column created_at set default now(),
		alter column created_at set not null,
		alter column updated_at set default now(),
		alter column updated_at set not null;

	if not v_columns_missing then
		return;
	end if;

	-- The segments ran when the pg_cron job did: that becomes their schedule, and the default of
	-- segments still added with the original INSERT (an interval such as '1 day' would drift past a
	-- daily trigger). pg_cron reads its schedules in cron.timezone, GMT unless set.
	if to_regclass('cron.job') is not null then
		execute $q$select lower(btrim(regexp_replace(j.schedule, '\s+', ' ', 'g'))) from cron.job j
			where j.jobname = 'sync-segments-daily' order by j.jobid limit 1$q$ into v_job_schedule;
		if v_job_schedule ~ '^[0-9*/,-]+ [0-9*/,-]+ [0-9*/,-]+ [0-9a-z*/,-]+ [0-9a-z*/,-]+$' then
			v_schedule := v_job_schedule;
			v_schedule_source := 'the pg_cron job sync-segments-daily';
			v_timezone := coalesce(nullif(current_setting('cron.timezone', true), ''), 'GMT');
			if upper(v_timezone) in ('GMT', 'UTC', 'Z', 'ETC/UTC', 'ETC/GMT') or not exists (select 1 from pg_timezone_names where name = v_timezone) then
				v_timezone := 'UTC';
			end if;
		end if;
	end if;
	update public.sync_segments_control set schedule = v_schedule, schedule_timezone = v_timezone;
	execute format('alter table public.sync_segments_control alter column schedule set default %L, alter column schedule_timezone set default %L',
		v_schedule, v_timezone);

	-- What the old runs say: the last result, the last success, the failures in a row.
	if to_regclass('public.sync_segments_logs') is not null then
		with ordered as (
			select l.segment_id, l.status, l.execution_time,
				row_number() over (partition by l.segment_id order by l.execution_time desc, l.id desc) as rn
			from public.sync_segments_logs l
			where l.status <> 'running'
		),
		per_segment as (
			select o.segment_id,
				max(o.execution_time) filter (where o.status = 'success') as last_success_at,
				min(o.rn) filter (where o.status not in ('error', 'failed')) as first_not_failed,
				count(*) as runs,
				min(o.status) filter (where o.rn = 1) as last_status
			from ordered o
			group by o.segment_id
		)
		update public.sync_segments_control c
		set last_success_at = p.last_success_at,
			last_status = case
				when p.last_status = 'error' then 'failed'
				when p.last_status in ('success', 'partial', 'rate_limited', 'failed', 'cancelled', 'skipped') then p.last_status
			end,
			consecutive_failures = coalesce(p.first_not_failed - 1, p.runs)
		from per_segment p
		where p.segment_id = c.segment_id;
	end if;

	select string_agg(format('%s (%s)', c.segment_id, c.status), ', ' order by c.segment_id) into v_segments from public.sync_segments_control c;
	perform pg_temp.sync_upgrade_note(format(
		'sync_segments_control upgraded in place: segments %s kept with their ids, status, next_execution and last_execution; '
		'schedule %L (%s), read in %s, for them and for segments added later with INSERT; last result, last success and failures in a row taken from their old runs.',
		coalesce(v_segments, 'none'), v_schedule, v_schedule_source, v_timezone));
end $$;
