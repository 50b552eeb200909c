-- SprintHub Segment Sync: value casts, schedules, stats arithmetic.
-- The sync_to_* casts never raise: a value that does not fit returns NULL. They are IMMUTABLE so a
-- user can type a custom field with a generated column, e.g.
--   alter table public.leads add column if not exists data_de_nascimento date
--     generated always as (public.sync_to_date(raw -> 'data_de_nascimento')) stored;

-- True for what counts as "no value": absent, JSON null, empty or blank string.
create or replace function public.sync_is_blank(p_value jsonb)
returns boolean
language sql immutable parallel safe
set search_path = public, pg_temp
as $$
	select p_value is null or jsonb_typeof(p_value) = 'null'
		or (jsonb_typeof(p_value) = 'string' and btrim(p_value #>> '{}') = '');
$$;

create or replace function public.sync_to_text(p_value jsonb)
returns text
language sql immutable parallel safe
set search_path = public, pg_temp
as $$
	select case jsonb_typeof(p_value)
		when 'string' then nullif(btrim(p_value #>> '{}'), '')
		when 'number' then p_value #>> '{}'
		when 'boolean' then p_value #>> '{}'
	end;
$$;

create or replace function public.sync_to_numeric(p_value jsonb)
returns numeric
language plpgsql immutable parallel safe
set search_path = public, pg_temp
as $$
declare
	s text;
begin
	case jsonb_typeof(p_value)
		when 'number' then
			return p_value::numeric;
		when 'string' then
			s := btrim(p_value #>> '{}');
			-- Brazilian decimal comma: '12,5'.
			if s ~ '^[+-]?\d+,\d+$' then
				s := replace(s, ',', '.');
			end if;
			if s ~ '^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?$' then
				return s::numeric;
			end if;
			return null;
		else
			return null;
	end case;
end;
$$;

create or replace function public.sync_to_bigint(p_value jsonb)
returns bigint
language plpgsql immutable parallel safe
set search_path = public, pg_temp
as $$
declare
	n numeric := public.sync_to_numeric(p_value);
begin
	if n is null or n <> trunc(n) or n < -9223372036854775808 or n > 9223372036854775807 then
		return null;
	end if;
	return n::bigint;
end;
$$;

create or replace function public.sync_to_integer(p_value jsonb)
returns integer
language plpgsql immutable parallel safe
set search_path = public, pg_temp
as $$
declare
	n numeric := public.sync_to_numeric(p_value);
begin
	if n is null or n <> trunc(n) or n < -2147483648 or n > 2147483647 then
		return null;
	end if;
	return n::integer;
end;
$$;

create or replace function public.sync_to_boolean(p_value jsonb)
returns boolean
language sql immutable parallel safe
set search_path = public, pg_temp
as $$
	select case jsonb_typeof(p_value)
		when 'boolean' then (p_value #>> '{}')::boolean
		when 'number' then case p_value #>> '{}' when '1' then true when '0' then false end
		when 'string' then case lower(btrim(p_value #>> '{}'))
			when 'true' then true when 't' then true when '1' then true when 'yes' then true when 'sim' then true when 's' then true
			when 'false' then false when 'f' then false when '0' then false when 'no' then false when 'não' then false when 'nao' then false when 'n' then false
		end
	end;
$$;

-- ISO-8601 only (what SprintHub sends); a date without an offset is read as UTC, whatever the
-- session time zone, which is what makes this deterministic enough to be IMMUTABLE.
create or replace function public.sync_to_timestamptz(p_value jsonb)
returns timestamptz
language plpgsql immutable parallel safe
set search_path = public, pg_temp
as $$
declare
	s text;
begin
	if jsonb_typeof(p_value) is distinct from 'string' then
		return null;
	end if;
	s := btrim(p_value #>> '{}');
	if s !~ '^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|z|[+-]\d{2}(:?\d{2})?)?$' then
		return null;
	end if;
	begin
		if s ~ '(Z|z|[+-]\d{2}(:?\d{2})?)$' and s ~ '[T ]' then
			return s::timestamptz;
		end if;
		return s::timestamp at time zone 'UTC';
	exception when others then
		-- Well-formed but impossible ('2024-02-31') or out of range.
		return null;
	end;
end;
$$;

create or replace function public.sync_to_date(p_value jsonb)
returns date
language sql immutable parallel safe
set search_path = public, pg_temp
as $$
	select (public.sync_to_timestamptz(p_value) at time zone 'UTC')::date;
$$;

-- The typed columns of a lead, from its SprintHub record.
create or replace function public.sync_cast_lead(
	p_raw jsonb,
	out firstname text, out lastname text, out fullname text, out email text, out phone text,
	out mobile text, out whatsapp text, out address text, out city text, out state text,
	out country text, out zipcode text, out timezone text, out company text, out stage text,
	out preferred_locale text, out photo_url text, out points integer, out owner_id bigint,
	out owner_name text, out archived boolean, out created_by text, out created_by_name text,
	out created_by_type text, out updated_by text, out updated_by_name text,
	out create_date timestamptz, out updated_date timestamptz, out last_active timestamptz,
	out cast_problems jsonb)
language plpgsql immutable parallel safe
set search_path = public, pg_temp
as $$
declare
	owner_value jsonb := p_raw -> 'owner';
begin
	firstname := sync_to_text(p_raw -> 'firstname');
	lastname := sync_to_text(p_raw -> 'lastname');
	fullname := coalesce(sync_to_text(p_raw -> 'fullname'), nullif(concat_ws(' ', firstname, lastname), ''));
	email := sync_to_text(p_raw -> 'email');
	phone := sync_to_text(p_raw -> 'phone');
	mobile := sync_to_text(p_raw -> 'mobile');
	whatsapp := sync_to_text(p_raw -> 'whatsapp');
	address := sync_to_text(p_raw -> 'address');
	city := sync_to_text(p_raw -> 'city');
	state := sync_to_text(p_raw -> 'state');
	country := sync_to_text(p_raw -> 'country');
	zipcode := sync_to_text(p_raw -> 'zipcode');
	timezone := sync_to_text(p_raw -> 'timezone');
	company := sync_to_text(p_raw -> 'company');
	stage := sync_to_text(p_raw -> 'stage');
	preferred_locale := sync_to_text(p_raw -> 'preferred_locale');
	photo_url := sync_to_text(p_raw -> 'photoUrl');
	points := sync_to_integer(p_raw -> 'points');
	-- owner: a user id in detail records, {"completName": …} in segment lists.
	if jsonb_typeof(owner_value) = 'object' then
		owner_id := sync_to_bigint(owner_value -> 'id');
		owner_name := sync_to_text(coalesce(owner_value -> 'completName', owner_value -> 'name'));
	else
		owner_id := sync_to_bigint(owner_value);
	end if;
	archived := sync_to_boolean(p_raw -> 'archived');
	created_by := sync_to_text(p_raw -> 'createdBy');
	created_by_name := sync_to_text(p_raw -> 'createdByName');
	created_by_type := sync_to_text(p_raw -> 'createdByType');
	updated_by := sync_to_text(p_raw -> 'updatedBy');
	updated_by_name := sync_to_text(p_raw -> 'updatedByName');
	create_date := sync_to_timestamptz(p_raw -> 'createDate');
	updated_date := sync_to_timestamptz(p_raw -> 'updatedDate');
	last_active := sync_to_timestamptz(p_raw -> 'lastActive');

	select jsonb_object_agg(f.field, jsonb_build_object('value', f.value, 'expected', f.expected))
	into cast_problems
	from (values
		('firstname', p_raw -> 'firstname', firstname is null, 'text'),
		('lastname', p_raw -> 'lastname', lastname is null, 'text'),
		('fullname', p_raw -> 'fullname', sync_to_text(p_raw -> 'fullname') is null, 'text'),
		('email', p_raw -> 'email', email is null, 'text'),
		('phone', p_raw -> 'phone', phone is null, 'text'),
		('mobile', p_raw -> 'mobile', mobile is null, 'text'),
		('whatsapp', p_raw -> 'whatsapp', whatsapp is null, 'text'),
		('address', p_raw -> 'address', address is null, 'text'),
		('city', p_raw -> 'city', city is null, 'text'),
		('state', p_raw -> 'state', state is null, 'text'),
		('country', p_raw -> 'country', country is null, 'text'),
		('zipcode', p_raw -> 'zipcode', zipcode is null, 'text'),
		('timezone', p_raw -> 'timezone', timezone is null, 'text'),
		('company', p_raw -> 'company', company is null, 'text'),
		('stage', p_raw -> 'stage', stage is null, 'text'),
		('preferred_locale', p_raw -> 'preferred_locale', preferred_locale is null, 'text'),
		('photoUrl', p_raw -> 'photoUrl', photo_url is null, 'text'),
		('points', p_raw -> 'points', points is null, 'integer'),
		('owner', owner_value, jsonb_typeof(owner_value) <> 'object' and owner_id is null, 'bigint or {"completName": text}'),
		('archived', p_raw -> 'archived', archived is null, 'boolean'),
		('createdBy', p_raw -> 'createdBy', created_by is null, 'text'),
		('createdByName', p_raw -> 'createdByName', created_by_name is null, 'text'),
		('createdByType', p_raw -> 'createdByType', created_by_type is null, 'text'),
		('updatedBy', p_raw -> 'updatedBy', updated_by is null, 'text'),
		('updatedByName', p_raw -> 'updatedByName', updated_by_name is null, 'text'),
		('createDate', p_raw -> 'createDate', create_date is null, 'timestamptz'),
		('updatedDate', p_raw -> 'updatedDate', updated_date is null, 'timestamptz'),
		('lastActive', p_raw -> 'lastActive', last_active is null, 'timestamptz')
	) as f(field, value, missing, expected)
	where f.missing and not sync_is_blank(f.value);
end;
$$;

-- Adds counters: numbers are summed key by key, any other value is replaced.
create or replace function public.sync_add_stats(p_base jsonb, p_delta jsonb)
returns jsonb
language sql immutable parallel safe
set search_path = public, pg_temp
as $$
	select coalesce(jsonb_object_agg(k.key,
		case
			when jsonb_typeof(coalesce(p_base, '{}'::jsonb) -> k.key) = 'number' and jsonb_typeof(p_delta -> k.key) = 'number'
				then to_jsonb((p_base -> k.key)::numeric + (p_delta -> k.key)::numeric)
			else coalesce(p_delta -> k.key, p_base -> k.key)
		end), '{}'::jsonb)
	from (
		select jsonb_object_keys(case when jsonb_typeof(p_base) = 'object' then p_base else '{}'::jsonb end) as key
		union
		select jsonb_object_keys(case when jsonb_typeof(p_delta) = 'object' then p_delta else '{}'::jsonb end)
	) as k;
$$;

-- The values one field of a cron expression allows.
create or replace function public.sync_cron_field(p_field text, p_min integer, p_max integer, p_names text[] default null)
returns integer[]
language plpgsql immutable
set search_path = public, pg_temp
as $$
declare
	part text;
	range_part text;
	step integer;
	lo integer;
	hi integer;
	result integer[] := '{}';
	names_offset integer := case when p_min = 1 then 1 else 0 end;

	bad constant text := format('invalid cron field %L (allowed: %s-%s, *, lists, ranges, steps)', p_field, p_min, p_max);
begin
	foreach part in array string_to_array(lower(btrim(p_field)), ',') loop
		step := 1;
		range_part := part;
		if part like '%/%' then
			if split_part(part, '/', 2) !~ '^\d{1,3}$' then raise exception using errcode = '22023', message = bad; end if;
			step := split_part(part, '/', 2)::integer;
			range_part := split_part(part, '/', 1);
		end if;
		if range_part = '*' then
			lo := p_min;
			hi := p_max;
		else
			declare
				ends text[] := string_to_array(range_part, '-');
				vals integer[] := '{}';
				e text;
			begin
				if array_length(ends, 1) not between 1 and 2 then raise exception using errcode = '22023', message = bad; end if;
				foreach e in array ends loop
					if e ~ '^\d{1,2}$' then
						vals := vals || e::integer;
					elsif p_names is not null and array_position(p_names, e) is not null then
						vals := vals || (array_position(p_names, e) - 1 + names_offset);
					else
						raise exception using errcode = '22023', message = bad;
					end if;
				end loop;
				lo := vals[1];
				hi := case when array_length(vals, 1) = 2 then vals[2] when part like '%/%' then p_max else vals[1] end;
			end;
		end if;
		if step < 1 or lo < p_min or hi > p_max or lo > hi then
			raise exception using errcode = '22023', message = bad;
		end if;
		result := result || array(select generate_series(lo, hi, step));
	end loop;
	return array(select distinct v from unnest(result) as v order by v);
end;
$$;

-- When a schedule next fires after p_after: a 5-field cron expression (minute hour day-of-month
-- month day-of-week, read in p_timezone, day-of-month and day-of-week OR-ed as in cron when both are
-- restricted; @hourly/@daily/@weekly/@monthly/@yearly too) or an interval ('6 hours').
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
	local timestamp;
	limit_at timestamp;
	day_ok boolean;
	next_minute integer;
	step interval;
	tz text := coalesce(nullif(btrim(p_timezone), ''), 'UTC');
begin
	if not exists (select 1 from pg_timezone_names where name = tz) and not exists (select 1 from pg_timezone_abbrevs where abbrev = upper(tz)) then
		raise exception using errcode = '22023', message = format('unknown time zone %L (use a name like ''America/Sao_Paulo'' or ''UTC'')', tz);
	end if;
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
		local := date_trunc('minute', p_after at time zone tz) + interval '1 minute';
		limit_at := local + interval '5 years';
		while local < limit_at loop
			if not extract(month from local)::integer = any (months) then
				local := date_trunc('month', local) + interval '1 month';
				continue;
			end if;
			day_ok := case
				when any_day and any_weekday then true
				when any_day then extract(dow from local)::integer = any (weekdays)
				when any_weekday then extract(day from local)::integer = any (days)
				else extract(day from local)::integer = any (days) or extract(dow from local)::integer = any (weekdays)
			end;
			if not day_ok then
				local := date_trunc('day', local) + interval '1 day';
				continue;
			end if;
			if not extract(hour from local)::integer = any (hours) then
				local := date_trunc('hour', local) + interval '1 hour';
				continue;
			end if;
			select min(m) into next_minute from unnest(minutes) as m where m >= extract(minute from local)::integer;
			if next_minute is null then
				local := date_trunc('hour', local) + interval '1 hour';
				continue;
			end if;
			return (date_trunc('hour', local) + make_interval(mins => next_minute)) at time zone tz;
		end loop;
		raise exception using errcode = '22023', message = format('cron expression %L never fires', p_schedule);
	end if;
	begin
		step := spec::interval;
	exception when others then
		raise exception using errcode = '22023',
			message = format('invalid schedule %L: use a 5-field cron expression (''0 6 * * *'') or an interval (''6 hours'')', p_schedule);
	end;
	if p_after + step <= p_after then
		raise exception using errcode = '22023', message = format('invalid schedule %L: the interval must be positive', p_schedule);
	end if;
	return p_after + step;
end;
$$;

-- Keeps a hand-edited control row valid: a bad schedule or time zone is refused with a clear
-- message, and a row without next_execution gets one.
create or replace function public.sync_segments_control_check()
returns trigger
language plpgsql
set search_path = public, pg_temp
as $$
begin
	if tg_op = 'INSERT' or new.schedule is distinct from old.schedule or new.schedule_timezone is distinct from old.schedule_timezone then
		perform sync_next_execution(new.schedule, now(), new.schedule_timezone);
	end if;
	new.updated_at := now();
	return new;
end;
$$;
drop trigger if exists sync_segments_control_check on public.sync_segments_control;
create trigger sync_segments_control_check before insert or update on public.sync_segments_control
	for each row execute function public.sync_segments_control_check();

do $$
declare
	f text;
begin
	foreach f in array array[
		'sync_is_blank(jsonb)', 'sync_to_text(jsonb)', 'sync_to_numeric(jsonb)', 'sync_to_bigint(jsonb)',
		'sync_to_integer(jsonb)', 'sync_to_boolean(jsonb)', 'sync_to_timestamptz(jsonb)', 'sync_to_date(jsonb)',
		'sync_cast_lead(jsonb)', 'sync_add_stats(jsonb, jsonb)', 'sync_cron_field(text, integer, integer, text[])',
		'sync_next_execution(text, timestamptz, text)', 'sync_segments_control_check()'
	] loop
		execute format('revoke execute on function public.%s from public, anon, authenticated', f);
		execute format('grant execute on function public.%s to service_role', f);
	end loop;
end $$;

notify pgrst, 'reload schema';
