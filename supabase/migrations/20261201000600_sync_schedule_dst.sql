-- SprintHub Segment Sync: schedules across daylight-saving changes.
-- sync_next_execution used to search wall-clock minutes and convert the match with AT TIME ZONE,
-- which resolves a repeated time to its second occurrence and a skipped time to one hour later:
-- `*/15` from 01:20 EDT on the fall-back day next fired at 01:30 EST, 70 minutes of slots lost.
-- The rules now (those of Vixie cron and cronie, the cron most users know):
--   * A cron whose minute or hour field starts with `*` (`*/15 * * * *`, `0 * * * *`, `* 3 * * *`)
--     follows elapsed time: it fires at every instant whose wall-clock time matches. In the hour that
--     repeats at fall-back it fires in both passes (01:00, 01:15 ... EDT, then 01:00, 01:15 ... EST);
--     the times skipped at spring-forward do not exist and do not fire.
--   * Any other cron (fixed minute and hour: `30 1 * * *`, `@daily`) fires once per wall-clock slot:
--     a repeated time at its first occurrence only, a skipped time at the first instant after the
--     gap (02:30 on the spring-forward day fires at 03:00 EDT; several skipped slots fire once).
--   * An interval in minutes or hours is elapsed time ('6 hours' is always 6 hours). Days, weeks,
--     months and years are calendar steps in the schedule's time zone ('1 day' keeps the wall-clock
--     time), a repeated or skipped result resolved as for a fixed cron. The result no longer depends
--     on the session's TimeZone setting.

-- Local time minus UTC at an instant, in a time zone.
create or replace function sync_internal.utc_offset(p_at timestamptz, p_timezone text)
returns interval
language sql stable parallel safe
as $$
	select (p_at at time zone p_timezone) - (p_at at time zone 'UTC');
$$;

-- Every instant whose wall-clock time in the zone is p_local, earliest first: one normally, two in
-- a repeated hour, none in a skipped one. Offsets are probed a day either side, which covers every
-- zone (offsets run from -12 to +14 hours) as long as it changes offset at most once in that span.
create or replace function sync_internal.local_instants(p_local timestamp, p_timezone text)
returns timestamptz[]
language sql stable parallel safe
as $$
	select coalesce(array_agg(distinct c.at order by c.at), '{}')
	from (
		select (p_local - sync_internal.utc_offset(probe.at, p_timezone)) at time zone 'UTC' as at
		from (values
			((p_local at time zone 'UTC') - interval '1 day'),
			(p_local at time zone p_timezone),
			((p_local at time zone 'UTC') + interval '1 day')
		) as probe(at)
	) as c
	where (c.at at time zone p_timezone) = p_local;
$$;

-- The first instant after p_from, up to p_to, where the zone's offset differs from its offset at
-- p_from (whole seconds: zone changes happen on them); NULL if the offset is the same at p_to.
-- Assumes at most one change in between (callers look a day or less ahead).
create or replace function sync_internal.offset_change(p_from timestamptz, p_to timestamptz, p_timezone text)
returns timestamptz
language plpgsql stable
as $$
declare
	v_offset interval := sync_internal.utc_offset(p_from, p_timezone);
	v_lo bigint := floor(extract(epoch from p_from))::bigint;
	v_hi bigint := ceil(extract(epoch from p_to))::bigint;
	v_mid bigint;
begin
	if sync_internal.utc_offset(to_timestamp(v_hi), p_timezone) = v_offset then
		return null;
	end if;
	while v_hi - v_lo > 1 loop
		v_mid := v_lo + (v_hi - v_lo) / 2;
		if sync_internal.utc_offset(to_timestamp(v_mid), p_timezone) = v_offset then
			v_lo := v_mid;
		else
			v_hi := v_mid;
		end if;
	end loop;
	return to_timestamp(v_hi);
end;
$$;

-- When a wall-clock slot fires under the fixed-time rule: its first occurrence, or for a time the
-- zone skips, the first instant after the gap.
create or replace function sync_internal.local_slot_instant(p_local timestamp, p_timezone text)
returns timestamptz
language plpgsql stable
as $$
declare
	v_instants timestamptz[] := sync_internal.local_instants(p_local, p_timezone);
begin
	if cardinality(v_instants) > 0 then
		return v_instants[1];
	end if;
	-- In a gap. AT TIME ZONE reads a skipped time with the offset from before the gap, which lands
	-- less than the gap's length after it; the change is the first instant with the new offset.
	return sync_internal.offset_change(
		(p_local at time zone p_timezone) - interval '12 hours', p_local at time zone p_timezone, p_timezone);
end;
$$;

-- The first wall-clock minute from p_from on (inclusive) that a parsed cron expression matches,
-- before p_limit; NULL if none.
create or replace function sync_internal.cron_next_local(
	p_minutes integer[], p_hours integer[], p_days integer[], p_months integer[], p_weekdays integer[],
	p_any_day boolean, p_any_weekday boolean, p_from timestamp, p_limit timestamp)
returns timestamp
language plpgsql immutable
as $$
declare
	v_local timestamp := date_trunc('minute', p_from) + case when p_from > date_trunc('minute', p_from) then interval '1 minute' else interval '0' end;
	v_day_ok boolean;
	v_minute integer;
begin
	while v_local < p_limit loop
		if not extract(month from v_local)::integer = any (p_months) then
			v_local := date_trunc('month', v_local) + interval '1 month';
			continue;
		end if;
		v_day_ok := case
			when p_any_day and p_any_weekday then true
			when p_any_day then extract(dow from v_local)::integer = any (p_weekdays)
			when p_any_weekday then extract(day from v_local)::integer = any (p_days)
			else extract(day from v_local)::integer = any (p_days) or extract(dow from v_local)::integer = any (p_weekdays)
		end;
		if not v_day_ok then
			v_local := date_trunc('day', v_local) + interval '1 day';
			continue;
		end if;
		if not extract(hour from v_local)::integer = any (p_hours) then
			v_local := date_trunc('hour', v_local) + interval '1 hour';
			continue;
		end if;
		select min(m) into v_minute from unnest(p_minutes) as m where m >= extract(minute from v_local)::integer;
		if v_minute is null then
			v_local := date_trunc('hour', v_local) + interval '1 hour';
			continue;
		end if;
		return date_trunc('hour', v_local) + make_interval(mins => v_minute);
	end loop;
	return null;
end;
$$;

revoke all on all functions in schema sync_internal from public, anon, authenticated;
grant execute on all functions in schema sync_internal to service_role;

-- When a schedule next fires after p_after: a 5-field cron expression (minute hour day-of-month
-- month day-of-week, read in p_timezone, day-of-month and day-of-week OR-ed as in cron when both are
-- restricted; @hourly/@daily/@weekly/@monthly/@yearly too) or an interval ('6 hours'), with the
-- daylight-saving rules at the top of this file.
create or replace function public.sync_next_execution(p_schedule text, p_after timestamptz default now(), p_timezone text default 'UTC')
returns timestamptz
language plpgsql stable
set search_path = public, pg_temp
as $$
declare
	spec text := lower(btrim(coalesce(p_schedule, '')));
	fields text[];
	minutes integer[];
	hours integer[];
	days integer[];
	months integer[];
	weekdays integer[];
	any_day boolean;
	any_weekday boolean;
	follows_elapsed_time boolean;
	start_local timestamp;
	limit_local timestamp;
	local timestamp;
	found timestamptz;
	candidate timestamptz;
	fall_back timestamptz;
	step interval;
	step_months integer;
	step_days integer;
	step_time interval;
	tz text := coalesce(nullif(btrim(p_timezone), ''), 'UTC');
begin
	-- Asking the zone database directly: reading pg_timezone_names lists every zone file (~100 ms).
	begin
		perform now() at time zone tz;
	exception when invalid_parameter_value then
		raise exception using errcode = '22023', message = format('unknown time zone %L (use a name like ''America/Sao_Paulo'' or ''UTC'')', tz);
	end;
	spec := case spec
		when '@hourly' then '0 * * * *'
		when '@daily' then '0 0 * * *'
		when '@midnight' then '0 0 * * *'
		when '@weekly' then '0 0 * * 0'
		when '@monthly' then '0 0 1 * *'
		when '@yearly' then '0 0 1 1 *'
		when '@annually' then '0 0 1 1 *'
		else spec
	end;
	fields := regexp_split_to_array(spec, '\s+');
	if array_length(fields, 1) = 5 and fields[1] ~ '^[0-9*/,-]+$' then
		minutes := sync_cron_field(fields[1], 0, 59);
		hours := sync_cron_field(fields[2], 0, 23);
		days := sync_cron_field(fields[3], 1, 31);
		months := sync_cron_field(fields[4], 1, 12, array['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']);
		weekdays := array(select distinct case when d = 7 then 0 else d end from unnest(
			sync_cron_field(fields[5], 0, 7, array['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'])) as d);
		any_day := fields[3] like '*%';
		any_weekday := fields[5] like '*%';
		follows_elapsed_time := fields[1] like '*%' or fields[2] like '*%';
		start_local := date_trunc('minute', p_after at time zone tz) + interval '1 minute';
		limit_local := start_local + interval '5 years';
		local := sync_internal.cron_next_local(minutes, hours, days, months, weekdays, any_day, any_weekday, start_local, limit_local);
		while local is not null loop
			if follows_elapsed_time then
				select min(i) into found from unnest(sync_internal.local_instants(local, tz)) as i where i > p_after;
			else
				found := sync_internal.local_slot_instant(local, tz);
				if found <= p_after then
					found := null;
				end if;
			end if;
			exit when found is not null;
			local := sync_internal.cron_next_local(minutes, hours, days, months, weekdays, any_day, any_weekday, local + interval '1 minute', limit_local);
		end loop;
		if found is null then
			raise exception using errcode = '22023', message = format('cron expression %L never fires', p_schedule);
		end if;
		if follows_elapsed_time then
			-- The clock may turn back before that: the wall-clock times it repeats come again, and
			-- those before p_after's own wall-clock time were never looked at above.
			fall_back := sync_internal.offset_change(p_after, least(found, p_after + interval '1 day'), tz);
			if fall_back is not null and sync_internal.utc_offset(fall_back, tz) < sync_internal.utc_offset(p_after, tz) then
				local := sync_internal.cron_next_local(minutes, hours, days, months, weekdays, any_day, any_weekday,
					fall_back at time zone tz, limit_local);
				candidate := (local - sync_internal.utc_offset(fall_back, tz)) at time zone 'UTC';
				if candidate < found and candidate >= fall_back and (candidate at time zone tz) = local then
					found := candidate;
				end if;
			end if;
		end if;
		return found;
	end if;
	begin
		step := spec::interval;
	exception when others then
		raise exception using errcode = '22023',
			message = format('invalid schedule %L: use a 5-field cron expression (''0 6 * * *'') or an interval (''6 hours'')', p_schedule);
	end;
	step_months := (extract(year from step) * 12 + extract(month from step))::integer;
	step_days := extract(day from step)::integer;
	step_time := step - make_interval(months => step_months, days => step_days);
	if step_months = 0 and step_days = 0 then
		found := p_after + step_time;
	else
		-- Calendar steps keep the wall-clock time of p_after (seconds too), in the schedule's zone.
		found := sync_internal.local_slot_instant(
			(p_after at time zone tz) + make_interval(months => step_months, days => step_days), tz) + step_time;
	end if;
	if found is null or found <= p_after then
		raise exception using errcode = '22023', message = format('invalid schedule %L: the interval must be positive', p_schedule);
	end if;
	return found;
end;
$$;

do $$
declare
	f text;
begin
	foreach f in array array['sync_next_execution(text, timestamptz, text)'] loop
		execute format('revoke execute on function public.%s from public, anon, authenticated', f);
		execute format('grant execute on function public.%s to service_role', f);
	end loop;
end $$;

notify pgrst, 'reload schema';
