-- SprintHub Segment Sync: segment management (for the SQL editor and the node) and monitoring.
--   select sync_add_segment(4242, 'Clientes ativos', '0 6 * * *', 'America/Sao_Paulo');
--   select sync_pause_segment(4242);  select sync_resume_segment(4242);
--   select sync_reschedule_segment(4242, '6 hours');  select sync_run_segment_now(4242);
--   select * from sync_segments_health;

-- The control row of a configured segment, locked; PT404 when it is not configured.
create or replace function public.sync_control_row(p_segment_id bigint)
returns public.sync_segments_control
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
	v_row sync_segments_control;
begin
	select * into v_row from sync_segments_control c where c.segment_id = p_segment_id for update;
	if not found then
		raise sqlstate 'PT404' using
			message = format('segment %s is not configured: add it with select sync_add_segment(%s, ''<name>'', ''<schedule>'');', p_segment_id, p_segment_id),
			hint = 'SYNC_UNKNOWN_SEGMENT';
	end if;
	return v_row;
end;
$$;

-- Adds a segment, or changes the given settings of an existing one (null keeps the current value).
-- p_schedule: a 5-field cron expression or an interval; p_start_at: first run (default: now).
create or replace function public.sync_add_segment(
	p_segment_id bigint,
	p_name text default null,
	p_schedule text default null,
	p_timezone text default null,
	p_enrichment_mode text default null,
	p_full_refresh_days integer default null,
	p_max_leave_share numeric default null,
	p_max_consecutive_failures integer default null,
	p_options jsonb default null,
	p_start_at timestamptz default null)
returns public.sync_segments_control
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
	v_row sync_segments_control;
begin
	if p_segment_id is null or p_segment_id <= 0 then
		raise exception using errcode = '22023', message = 'p_segment_id must be a positive SprintHub segment id';
	end if;
	if p_enrichment_mode is not null and p_enrichment_mode not in ('changed', 'all', 'none') then
		raise exception using errcode = '22023', message = format('p_enrichment_mode must be changed, all or none, not %L', p_enrichment_mode);
	end if;
	if p_max_leave_share is not null and (p_max_leave_share < 0 or p_max_leave_share > 1) then
		raise exception using errcode = '22023', message = 'p_max_leave_share must be between 0 and 1 (a share, e.g. 0.5)';
	end if;
	if p_options is not null and jsonb_typeof(p_options) <> 'object' then
		raise exception using errcode = '22023', message = 'p_options must be a JSON object';
	end if;
	if p_schedule is not null then
		perform sync_next_execution(p_schedule, now(), coalesce(p_timezone, 'UTC'));
	end if;
	insert into sync_segments_control as c (segment_id, segment_name, schedule, schedule_timezone, enrichment_mode,
		full_refresh_days, max_leave_share, max_consecutive_failures, options, next_execution)
	values (p_segment_id, p_name, coalesce(p_schedule, '1 day'), coalesce(p_timezone, 'UTC'),
		coalesce(p_enrichment_mode, 'changed'), coalesce(p_full_refresh_days, 30), coalesce(p_max_leave_share, 0.5),
		coalesce(p_max_consecutive_failures, 5), coalesce(p_options, '{}'::jsonb), coalesce(p_start_at, now()))
	on conflict (segment_id) do update set
		segment_name = coalesce(p_name, c.segment_name),
		schedule = coalesce(p_schedule, c.schedule),
		schedule_timezone = coalesce(p_timezone, c.schedule_timezone),
		enrichment_mode = coalesce(p_enrichment_mode, c.enrichment_mode),
		full_refresh_days = coalesce(p_full_refresh_days, c.full_refresh_days),
		max_leave_share = coalesce(p_max_leave_share, c.max_leave_share),
		max_consecutive_failures = coalesce(p_max_consecutive_failures, c.max_consecutive_failures),
		options = case when p_options is null then c.options else c.options || p_options end,
		next_execution = case
			when p_start_at is not null then p_start_at
			when p_schedule is not null or p_timezone is not null then sync_next_execution(coalesce(p_schedule, c.schedule), now(), coalesce(p_timezone, c.schedule_timezone))
			else c.next_execution
		end
	returning c.* into v_row;
	return v_row;
end;
$$;

-- Paused segments are not claimed; a run in progress finishes normally.
create or replace function public.sync_pause_segment(p_segment_id bigint)
returns public.sync_segments_control
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
	v_row sync_segments_control := sync_control_row(p_segment_id);
begin
	update sync_segments_control c set status = 'paused' where c.segment_id = v_row.segment_id returning c.* into v_row;
	return v_row;
end;
$$;

-- Back to active (from paused or error), failure count reset; an overdue segment runs at the next trigger.
create or replace function public.sync_resume_segment(p_segment_id bigint)
returns public.sync_segments_control
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
	v_row sync_segments_control := sync_control_row(p_segment_id);
begin
	update sync_segments_control c
	set status = 'active', consecutive_failures = 0, next_execution = coalesce(c.next_execution, now())
	where c.segment_id = v_row.segment_id
	returning c.* into v_row;
	return v_row;
end;
$$;

create or replace function public.sync_reschedule_segment(p_segment_id bigint, p_schedule text, p_timezone text default null)
returns public.sync_segments_control
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
	v_row sync_segments_control := sync_control_row(p_segment_id);
	v_timezone text := coalesce(p_timezone, v_row.schedule_timezone);
begin
	update sync_segments_control c
	set schedule = p_schedule, schedule_timezone = v_timezone, next_execution = sync_next_execution(p_schedule, now(), v_timezone)
	where c.segment_id = v_row.segment_id
	returning c.* into v_row;
	return v_row;
end;
$$;

-- Due at the next trigger (or right after the run in progress).
create or replace function public.sync_run_segment_now(p_segment_id bigint)
returns public.sync_segments_control
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
	v_row sync_segments_control := sync_control_row(p_segment_id);
begin
	if v_row.status <> 'active' then
		raise exception using errcode = '22023',
			message = format('segment %s is %s: resume it first with select sync_resume_segment(%s);', p_segment_id, v_row.status, p_segment_id);
	end if;
	update sync_segments_control c set next_execution = now(), run_requested_at = now()
	where c.segment_id = v_row.segment_id
	returning c.* into v_row;
	return v_row;
end;
$$;

-- Per-segment health, read by the node's health check and by dashboards.
-- health: ok | running | never_run | failing | overdue | paused | error.
create or replace view public.sync_segments_health with (security_invoker = true) as
select
	c.segment_id,
	c.segment_name,
	c.status,
	c.schedule,
	c.next_execution,
	c.last_execution,
	c.last_status,
	c.last_success_at,
	c.consecutive_failures,
	c.max_consecutive_failures,
	(c.lease_run_id is not null and c.lease_expires_at >= now()) as running,
	c.lease_owner,
	c.lease_expires_at,
	c.checkpoint is not null as has_checkpoint,
	last_run.message as last_message,
	last_run.error_class as last_error_class,
	last_run.finished_at as last_finished_at,
	last_run.duration_seconds as last_duration_seconds,
	recent.runs as recent_runs,
	recent.success_rate as recent_success_rate,
	recent.typical_duration_seconds,
	round(extract(epoch from now() - c.last_success_at)::numeric) as seconds_since_success,
	(select count(*) from public.sync_segment_leads s where s.segment_id = c.segment_id and s.left_at is null) as members,
	(select count(*) from public.sync_quarantine q where q.segment_id = c.segment_id and q.resolved_at is null) as quarantined,
	case
		when c.status = 'paused' then 'paused'
		when c.status = 'error' then 'error'
		when c.lease_run_id is not null and c.lease_expires_at >= now() then 'running'
		when c.consecutive_failures > 0 then 'failing'
		when c.next_execution < now() - interval '1 hour' then 'overdue'
		when c.last_execution is null then 'never_run'
		else 'ok'
	end as health
from public.sync_segments_control c
left join lateral (
	select l.message, l.error_class, l.finished_at, l.duration_seconds
	from public.sync_segments_logs l
	where l.segment_id = c.segment_id and l.status <> 'running'
	order by l.execution_time desc
	limit 1
) last_run on true
left join lateral (
	select count(*) as runs,
		round(100.0 * count(*) filter (where r.status in ('success', 'partial')) / nullif(count(*), 0), 1) as success_rate,
		percentile_cont(0.5) within group (order by r.duration_seconds) filter (where r.status in ('success', 'partial')) as typical_duration_seconds
	from (
		select l.status, l.duration_seconds
		from public.sync_segments_logs l
		where l.segment_id = c.segment_id and l.status not in ('running', 'skipped')
		order by l.execution_time desc
		limit 20
	) r
) recent on true;

revoke all on table public.sync_segments_health from public, anon, authenticated;
grant select on table public.sync_segments_health to service_role;

do $$
declare
	f text;
begin
	foreach f in array array[
		'sync_control_row(bigint)',
		'sync_add_segment(bigint, text, text, text, text, integer, numeric, integer, jsonb, timestamptz)',
		'sync_pause_segment(bigint)',
		'sync_resume_segment(bigint)',
		'sync_reschedule_segment(bigint, text, text)',
		'sync_run_segment_now(bigint)'
	] loop
		execute format('revoke execute on function public.%s from public, anon, authenticated', f);
		execute format('grant execute on function public.%s to service_role', f);
	end loop;
end $$;

notify pgrst, 'reload schema';
