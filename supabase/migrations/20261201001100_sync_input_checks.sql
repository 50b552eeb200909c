-- SprintHub Segment Sync: values typed into the management functions are checked where they enter,
-- each refusal with a message naming the value and a HINT saying what to type instead.
--   * A schedule runs at most once a minute: an interval under 1 minute ('1 microsecond',
--     '30 seconds') is refused when a schedule is set (sync_add_segment, sync_reschedule_segment, a
--     hand edit of sync_segments_control). Rows that already have one keep running as they are.
--   * full_refresh_days 0 means never (as the node and the CLI say): it is stored as NULL, which
--     the engine reads as no age-based refresh, instead of failing on the table's check constraint.
--   * Negative days, failures below 1, shares outside 0..1, retention days below 1 (sync_settings):
--     a sentence, not a constraint's name.

-- Refuses a schedule that cannot be used: empty, not a cron expression or interval, in an unknown
-- zone, never firing, or more often than once a minute. Returns its next execution after now().
create or replace function sync_internal.checked_schedule(p_schedule text, p_timezone text)
returns timestamptz
language plpgsql stable
set search_path = public, pg_temp
as $$
declare
	v_next timestamptz;
	v_after timestamptz;
	v_message text;
begin
	if p_schedule is null or btrim(p_schedule) = '' then
		raise exception using errcode = '22023', message = 'the schedule is empty',
			hint = 'Give a 5-field cron expression (''0 6 * * *'' is every day at 06:00) or an interval (''6 hours'', ''30 minutes'').';
	end if;
	begin
		v_next := sync_next_execution(p_schedule, now(), p_timezone);
		v_after := sync_next_execution(p_schedule, v_next, p_timezone);
	exception when sqlstate '22023' then
		get stacked diagnostics v_message = message_text;
		raise exception using errcode = '22023', message = v_message,
			hint = case when v_message like 'unknown time zone%'
				then 'Use an IANA time zone name such as ''UTC'' or ''America/Sao_Paulo'' (select name from pg_timezone_names lists them).'
				else 'Give a 5-field cron expression (''0 6 * * *'' is every day at 06:00, ''*/15 * * * *'' every 15 minutes) or a positive interval (''6 hours'', ''30 minutes'').'
			end;
	end;
	-- Two firings less than a minute apart: a sync could never finish before the next is due, and a
	-- typo such as '1 microsecond' would make the segment due on every trigger.
	if v_after - v_next < interval '1 minute' then
		raise exception using errcode = '22023',
			message = format('the schedule %L runs more often than once a minute', p_schedule),
			hint = 'The shortest schedule is 1 minute: use an interval such as ''5 minutes'' or ''6 hours'', or a cron expression such as ''*/5 * * * *''.';
	end if;
	return v_next;
end;
$$;

-- Keeps a control row valid however it is written (the functions below, the node, the CLI or a
-- hand edit): the schedule and the per-segment settings, with messages people can act on.
create or replace function public.sync_segments_control_check()
returns trigger
language plpgsql
set search_path = public, pg_temp
as $$
begin
	if tg_op = 'INSERT' or new.schedule is distinct from old.schedule or new.schedule_timezone is distinct from old.schedule_timezone then
		perform sync_internal.checked_schedule(new.schedule, new.schedule_timezone);
	end if;
	if tg_op = 'INSERT' or new.full_refresh_days is distinct from old.full_refresh_days then
		if new.full_refresh_days = 0 then
			new.full_refresh_days := null; -- 0 is "never": no age-based refresh
		elsif new.full_refresh_days < 0 then
			raise exception using errcode = '22023',
				message = format('full_refresh_days must be 0 (never) or a number of days, not %s', new.full_refresh_days),
				hint = 'Give how old a lead''s details may get before they are fetched again, e.g. 30, or 0 for never.';
		end if;
	end if;
	if (tg_op = 'INSERT' or new.max_consecutive_failures is distinct from old.max_consecutive_failures) and new.max_consecutive_failures < 1 then
		raise exception using errcode = '22023',
			message = format('max_consecutive_failures must be at least 1, not %s', new.max_consecutive_failures),
			hint = 'Give how many failed runs in a row put the segment in status error, e.g. 5.';
	end if;
	if (tg_op = 'INSERT' or new.max_leave_share is distinct from old.max_leave_share) and (new.max_leave_share < 0 or new.max_leave_share > 1) then
		raise exception using errcode = '22023',
			message = format('max_leave_share must be between 0 and 1, not %s', new.max_leave_share),
			hint = 'Give the largest share of the segment one run may mark as left, e.g. 0.5 for half.';
	end if;
	new.updated_at := now();
	return new;
end;
$$;

-- Adds a segment, or changes the given settings of an existing one (null keeps the current value).
-- p_schedule: a 5-field cron expression or an interval of 1 minute or more; p_full_refresh_days:
-- days, 0 for never; p_start_at: first run (default: now).
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
	v_current sync_segments_control;
begin
	if p_segment_id is null or p_segment_id <= 0 then
		raise exception using errcode = '22023', message = format('p_segment_id must be a positive SprintHub segment id, not %s', coalesce(p_segment_id::text, 'null')),
			hint = 'Use the numeric id of the segment in SprintHub (Segments), e.g. select sync_add_segment(4242);';
	end if;
	if p_enrichment_mode is not null and p_enrichment_mode not in ('changed', 'all', 'none') then
		raise exception using errcode = '22023', message = format('p_enrichment_mode must be changed, all or none, not %L', p_enrichment_mode),
			hint = 'changed: details for new or changed leads; all: details for every lead; none: list fields only.';
	end if;
	if p_full_refresh_days is not null and p_full_refresh_days < 0 then
		raise exception using errcode = '22023', message = format('p_full_refresh_days must be 0 (never) or a number of days, not %s', p_full_refresh_days),
			hint = 'Give how old a lead''s details may get before they are fetched again, e.g. 30, or 0 for never.';
	end if;
	if p_max_leave_share is not null and (p_max_leave_share < 0 or p_max_leave_share > 1) then
		raise exception using errcode = '22023', message = format('p_max_leave_share must be between 0 and 1, not %s', p_max_leave_share),
			hint = 'Give the largest share of the segment one run may mark as left, e.g. 0.5 for half.';
	end if;
	if p_max_consecutive_failures is not null and p_max_consecutive_failures < 1 then
		raise exception using errcode = '22023', message = format('p_max_consecutive_failures must be at least 1, not %s', p_max_consecutive_failures),
			hint = 'Give how many failed runs in a row put the segment in status error, e.g. 5.';
	end if;
	if p_options is not null and jsonb_typeof(p_options) <> 'object' then
		raise exception using errcode = '22023', message = 'p_options must be a JSON object',
			hint = 'e.g. ''{"note": "imported"}''::jsonb';
	end if;
	if p_schedule is not null or p_timezone is not null then
		select * into v_current from sync_segments_control c where c.segment_id = p_segment_id;
		perform sync_internal.checked_schedule(coalesce(p_schedule, v_current.schedule, '1 day'), coalesce(p_timezone, v_current.schedule_timezone, 'UTC'));
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
		-- 0 (never) is stored as NULL by the control row's trigger; NULL here keeps the current value.
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

create or replace function public.sync_reschedule_segment(p_segment_id bigint, p_schedule text, p_timezone text default null)
returns public.sync_segments_control
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
	v_row sync_segments_control := sync_control_row(p_segment_id);
	v_timezone text := coalesce(p_timezone, v_row.schedule_timezone);
	v_next timestamptz := sync_internal.checked_schedule(p_schedule, v_timezone);
begin
	update sync_segments_control c
	set schedule = p_schedule, schedule_timezone = v_timezone, next_execution = v_next
	where c.segment_id = v_row.segment_id
	returning c.* into v_row;
	return v_row;
end;
$$;

-- Retention settings are changed with plain SQL (update sync_settings set ...): say what a bad one means.
create or replace function public.sync_settings_check()
returns trigger
language plpgsql
set search_path = public, pg_temp
as $$
declare
	v_name text;
	v_days integer;
begin
	foreach v_name in array array['log_retention_days', 'quarantine_retention_days', 'left_membership_retention_days'] loop
		v_days := (to_jsonb(new) ->> v_name)::integer;
		if v_days is not null and v_days < 1 then
			raise exception using errcode = '22023',
				message = format('%s must be at least 1 day, not %s', v_name, v_days),
				hint = 'Give a number of days, e.g. 90, or NULL to keep those rows forever.';
		end if;
	end loop;
	return new;
end;
$$;
drop trigger if exists sync_settings_check on public.sync_settings;
create trigger sync_settings_check before insert or update on public.sync_settings
	for each row execute function public.sync_settings_check();

revoke execute on function public.sync_settings_check() from public, anon, authenticated;
grant execute on function public.sync_settings_check() to service_role;
revoke all on function sync_internal.checked_schedule(text, text) from public, anon, authenticated;
grant execute on function sync_internal.checked_schedule(text, text) to service_role;
revoke execute on function public.sync_segments_control_check() from public, anon, authenticated;
grant execute on function public.sync_segments_control_check() to service_role;
revoke execute on function public.sync_add_segment(bigint, text, text, text, text, integer, numeric, integer, jsonb, timestamptz) from public, anon, authenticated;
grant execute on function public.sync_add_segment(bigint, text, text, text, text, integer, numeric, integer, jsonb, timestamptz) to service_role;
revoke execute on function public.sync_reschedule_segment(bigint, text, text) from public, anon, authenticated;
grant execute on function public.sync_reschedule_segment(bigint, text, text) to service_role;

notify pgrst, 'reload schema';
