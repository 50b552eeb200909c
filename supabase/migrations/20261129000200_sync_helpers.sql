-- SprintHub Segment Sync: value casts, schedules, stats arithmetic.
-- The sync_to_* casts never raise: a value that does not fit returns NULL. They are IMMUTABLE so a
-- user can type a custom field with a generated column, e.g.
--   alter table public.leads add column if not exists data_de_nascimento date
--     generated always as (public.sync_to_date(raw -> 'data_de_nascimento')) stored;
--
-- Speed: every page casts ~30 fields of hundreds of leads. The public functions pin search_path (a
-- function with SET is never inlined and pays a configuration switch per call, ~8 µs), so the casting
-- rules live once in schema sync_internal as plain SQL expressions without SET that the planner
-- inlines into the calling query: sync_apply_page casts a whole page in one plan, without a function
-- call per field. Their bodies name only pg_catalog built-ins and sync_internal objects, and they are
-- inlined into callers whose search_path is pinned. The public sync_to_* are thin wrappers over them.
-- Dates are checked by a regular expression before the cast; only values the quick check cannot
-- vouch for (day 29 to 31 of a short month, leap seconds, odd offsets) go through the exception block.

create schema if not exists sync_internal;
revoke all on schema sync_internal from public;
grant usage on schema sync_internal to service_role;

-- True for what counts as "no value": absent, JSON null, empty or blank string.
create or replace function sync_internal.is_blank(p_value jsonb)
returns boolean
language sql immutable parallel safe
as $$
	select p_value is null or jsonb_typeof(p_value) = 'null'
		or (jsonb_typeof(p_value) = 'string' and btrim(p_value #>> '{}') = '');
$$;

create or replace function sync_internal.to_text(p_value jsonb)
returns text
language sql immutable parallel safe
as $$
	select case jsonb_typeof(p_value)
		when 'string' then nullif(btrim(p_value #>> '{}'), '')
		when 'number' then p_value #>> '{}'
		when 'boolean' then p_value #>> '{}'
	end;
$$;

-- A trimmed string as a number: plain or scientific notation, or a Brazilian decimal comma ('12,5').
create or replace function sync_internal.numeric_of_text(p_text text)
returns numeric
language sql immutable parallel safe
as $$
	select case
		when p_text ~ '^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?$' then p_text::numeric
		when p_text ~ '^[+-]?\d+,\d+$' then replace(p_text, ',', '.')::numeric
	end;
$$;

create or replace function sync_internal.to_numeric(p_value jsonb)
returns numeric
language sql immutable parallel safe
as $$
	select case jsonb_typeof(p_value)
		when 'number' then p_value::numeric
		when 'string' then sync_internal.numeric_of_text(btrim(p_value #>> '{}'))
	end;
$$;

create or replace function sync_internal.bigint_of(p_number numeric)
returns bigint
language sql immutable parallel safe
as $$
	select case when p_number = trunc(p_number) and p_number >= -9223372036854775808 and p_number <= 9223372036854775807
		then p_number::bigint end;
$$;

create or replace function sync_internal.integer_of(p_number numeric)
returns integer
language sql immutable parallel safe
as $$
	select case when p_number = trunc(p_number) and p_number >= -2147483648 and p_number <= 2147483647
		then p_number::integer end;
$$;

-- A JSON number is already a numeric: it is converted without going through text. A string of plain
-- digits (the usual id or count) is cast directly; any other string takes the numeric route.
create or replace function sync_internal.to_bigint(p_value jsonb)
returns bigint
language sql immutable parallel safe
as $$
	select case jsonb_typeof(p_value)
		when 'number' then sync_internal.bigint_of(p_value::numeric)
		when 'string' then case
			when btrim(p_value #>> '{}') ~ '^[+-]?\d{1,18}$' then btrim(p_value #>> '{}')::bigint
			else sync_internal.bigint_of(sync_internal.numeric_of_text(btrim(p_value #>> '{}')))
		end
	end;
$$;

create or replace function sync_internal.to_integer(p_value jsonb)
returns integer
language sql immutable parallel safe
as $$
	select case jsonb_typeof(p_value)
		when 'number' then sync_internal.integer_of(p_value::numeric)
		when 'string' then case
			when btrim(p_value #>> '{}') ~ '^[+-]?\d{1,9}$' then btrim(p_value #>> '{}')::integer
			else sync_internal.integer_of(sync_internal.numeric_of_text(btrim(p_value #>> '{}')))
		end
	end;
$$;

create or replace function sync_internal.to_boolean(p_value jsonb)
returns boolean
language sql immutable parallel safe
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

-- The careful path for ISO-8601 text the quick check could not vouch for: well-formed but
-- impossible ('2024-02-31') or out of range becomes NULL.
-- Parallel unsafe: the exception block below starts a subtransaction, which PostgreSQL refuses
-- while a query runs in parallel mode (leader included); so is everything that can call it.
create or replace function sync_internal.timestamptz_checked(p_text text)
returns timestamptz
language plpgsql stable parallel unsafe
as $$
begin
	if p_text !~ '^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|z|[+-]\d{2}(:?\d{2})?)?$' then
		return null;
	end if;
	-- Only well-formed text pays for the subtransaction of an exception block.
	begin
		if p_text ~ '(Z|z|[+-]\d{2}(:?\d{2})?)$' and p_text ~ '[T ]' then
			return p_text::timestamptz;
		end if;
		return p_text::timestamp at time zone 'UTC';
	exception when others then
		return null;
	end;
end;
$$;

-- ISO-8601 only (what SprintHub sends); a date without an offset is read as UTC, whatever the
-- session time zone. The quick check admits only dates and times that always exist (day up to 28,
-- 29-30 outside February, 31 in long months; hours 00-23; offsets up to 14 hours), so its cast
-- cannot fail; the rest goes to timestamptz_checked. STABLE here because a text-to-timestamptz cast
-- is (an IMMUTABLE SQL function with one would not be inlined); the result does not depend on the
-- session, so the public wrapper stays IMMUTABLE as before.
create or replace function sync_internal.timestamptz_of_text(p_text text)
returns timestamptz
language sql stable parallel unsafe
as $$
	select case
		-- What SprintHub sends ('2024-05-31T12:34:56.789Z') is recognised without a regular expression
		-- (the quick check below costs ~3x the cast): LIKE fixes the separators, translate proves the
		-- other 17 characters are ASCII digits, and the ranges are those of the quick check.
		when p_text like '____-__-__T__:__:__.___Z' and translate(p_text, '0123456789', '') = '--T::.Z'
			and substr(p_text, 1, 1) <> '0'
			and substr(p_text, 12, 2)::integer < 24 and substr(p_text, 15, 2)::integer < 60 and substr(p_text, 18, 2)::integer < 60
			and case
				when substr(p_text, 9, 2)::integer between 1 and 28 then substr(p_text, 6, 2)::integer between 1 and 12
				when substr(p_text, 9, 2)::integer in (29, 30) then substr(p_text, 6, 2)::integer in (1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
				when substr(p_text, 9, 2)::integer = 31 then substr(p_text, 6, 2)::integer in (1, 3, 5, 7, 8, 10, 12)
				else false
			end then p_text::timestamptz
		when p_text ~ '^[1-9]\d{3}-((0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)([T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?(Z|[+-](0\d|1[0-4])(:?[0-5]\d)?)?)?$' then
			case when p_text ~ '(Z|[+-]\d{2}(:?\d{2})?)$' and p_text ~ '[T ]' then p_text::timestamptz
				else p_text::timestamp at time zone 'UTC' end
		else sync_internal.timestamptz_checked(p_text)
	end;
$$;

create or replace function sync_internal.to_timestamptz(p_value jsonb)
returns timestamptz
language sql stable parallel unsafe
as $$
	select case when jsonb_typeof(p_value) = 'string' then sync_internal.timestamptz_of_text(btrim(p_value #>> '{}')) end;
$$;

-- The typed columns of a lead, from its SprintHub record, with the values that did not fit.
create or replace function sync_internal.cast_lead(p_raw jsonb)
returns table (
	firstname text, lastname text, fullname text, email text, phone text,
	mobile text, whatsapp text, address text, city text, state text,
	country text, zipcode text, timezone text, company text, stage text,
	preferred_locale text, photo_url text, points integer, owner_id bigint,
	owner_name text, archived boolean, created_by text, created_by_name text,
	created_by_type text, updated_by text, updated_by_name text,
	create_date timestamptz, updated_date timestamptz, last_active timestamptz,
	cast_problems jsonb)
language sql stable parallel unsafe
as $$
	select v.firstname, v.lastname, coalesce(v.fullname, nullif(concat_ws(' ', v.firstname, v.lastname), '')), v.email, v.phone, v.mobile, v.whatsapp, v.address, v.city, v.state, v.country, v.zipcode, v.timezone, v.company, v.stage, v.preferred_locale, v.photo_url, v.points, v.owner_id, v.owner_name, v.archived, v.created_by, v.created_by_name, v.created_by_type, v.updated_by, v.updated_by_name, v.create_date, v.updated_date, v.last_active,
		-- Most records fit every column: look for problems only when some column came out NULL
		-- from a value that is not blank.
		case when (v.firstname is null and not sync_internal.is_blank(v.j_firstname))
			or (v.lastname is null and not sync_internal.is_blank(v.j_lastname))
			or (v.fullname is null and not sync_internal.is_blank(v.j_fullname))
			or (v.email is null and not sync_internal.is_blank(v.j_email))
			or (v.phone is null and not sync_internal.is_blank(v.j_phone))
			or (v.mobile is null and not sync_internal.is_blank(v.j_mobile))
			or (v.whatsapp is null and not sync_internal.is_blank(v.j_whatsapp))
			or (v.address is null and not sync_internal.is_blank(v.j_address))
			or (v.city is null and not sync_internal.is_blank(v.j_city))
			or (v.state is null and not sync_internal.is_blank(v.j_state))
			or (v.country is null and not sync_internal.is_blank(v.j_country))
			or (v.zipcode is null and not sync_internal.is_blank(v.j_zipcode))
			or (v.timezone is null and not sync_internal.is_blank(v.j_timezone))
			or (v.company is null and not sync_internal.is_blank(v.j_company))
			or (v.stage is null and not sync_internal.is_blank(v.j_stage))
			or (v.preferred_locale is null and not sync_internal.is_blank(v.j_preferred_locale))
			or (v.photo_url is null and not sync_internal.is_blank(v.j_photo_url))
			or (v.points is null and not sync_internal.is_blank(v.j_points))
			or (jsonb_typeof(v.j_owner) <> 'object' and v.owner_id is null and not sync_internal.is_blank(v.j_owner))
			or (v.archived is null and not sync_internal.is_blank(v.j_archived))
			or (v.created_by is null and not sync_internal.is_blank(v.j_created_by))
			or (v.created_by_name is null and not sync_internal.is_blank(v.j_created_by_name))
			or (v.created_by_type is null and not sync_internal.is_blank(v.j_created_by_type))
			or (v.updated_by is null and not sync_internal.is_blank(v.j_updated_by))
			or (v.updated_by_name is null and not sync_internal.is_blank(v.j_updated_by_name))
			or (v.create_date is null and not sync_internal.is_blank(v.j_create_date))
			or (v.updated_date is null and not sync_internal.is_blank(v.j_updated_date))
			or (v.last_active is null and not sync_internal.is_blank(v.j_last_active))
		then (
			select jsonb_object_agg(f.field, jsonb_build_object('value', f.value, 'expected', f.expected))
			from (values
				('firstname', v.j_firstname, v.firstname is null, 'text'),
				('lastname', v.j_lastname, v.lastname is null, 'text'),
				('fullname', v.j_fullname, v.fullname is null, 'text'),
				('email', v.j_email, v.email is null, 'text'),
				('phone', v.j_phone, v.phone is null, 'text'),
				('mobile', v.j_mobile, v.mobile is null, 'text'),
				('whatsapp', v.j_whatsapp, v.whatsapp is null, 'text'),
				('address', v.j_address, v.address is null, 'text'),
				('city', v.j_city, v.city is null, 'text'),
				('state', v.j_state, v.state is null, 'text'),
				('country', v.j_country, v.country is null, 'text'),
				('zipcode', v.j_zipcode, v.zipcode is null, 'text'),
				('timezone', v.j_timezone, v.timezone is null, 'text'),
				('company', v.j_company, v.company is null, 'text'),
				('stage', v.j_stage, v.stage is null, 'text'),
				('preferred_locale', v.j_preferred_locale, v.preferred_locale is null, 'text'),
				('photoUrl', v.j_photo_url, v.photo_url is null, 'text'),
				('points', v.j_points, v.points is null, 'integer'),
				('owner', v.j_owner, jsonb_typeof(v.j_owner) <> 'object' and v.owner_id is null, 'bigint or {"completName": text}'),
				('archived', v.j_archived, v.archived is null, 'boolean'),
				('createdBy', v.j_created_by, v.created_by is null, 'text'),
				('createdByName', v.j_created_by_name, v.created_by_name is null, 'text'),
				('createdByType', v.j_created_by_type, v.created_by_type is null, 'text'),
				('updatedBy', v.j_updated_by, v.updated_by is null, 'text'),
				('updatedByName', v.j_updated_by_name, v.updated_by_name is null, 'text'),
				('createDate', v.j_create_date, v.create_date is null, 'timestamptz'),
				('updatedDate', v.j_updated_date, v.updated_date is null, 'timestamptz'),
				('lastActive', v.j_last_active, v.last_active is null, 'timestamptz')
			) as f(field, value, missing, expected)
			where f.missing and not sync_internal.is_blank(f.value))
		end
	from (
		-- Each cast runs once per lead (offset 0 keeps the subqueries apart, so the outer query
		-- reads results instead of repeating expressions), and each field is looked up in the
		-- record once.
		select j.*,
			sync_internal.to_text(j.j_firstname) as firstname,
			sync_internal.to_text(j.j_lastname) as lastname,
			sync_internal.to_text(j.j_fullname) as fullname,
			sync_internal.to_text(j.j_email) as email,
			sync_internal.to_text(j.j_phone) as phone,
			sync_internal.to_text(j.j_mobile) as mobile,
			sync_internal.to_text(j.j_whatsapp) as whatsapp,
			sync_internal.to_text(j.j_address) as address,
			sync_internal.to_text(j.j_city) as city,
			sync_internal.to_text(j.j_state) as state,
			sync_internal.to_text(j.j_country) as country,
			sync_internal.to_text(j.j_zipcode) as zipcode,
			sync_internal.to_text(j.j_timezone) as timezone,
			sync_internal.to_text(j.j_company) as company,
			sync_internal.to_text(j.j_stage) as stage,
			sync_internal.to_text(j.j_preferred_locale) as preferred_locale,
			sync_internal.to_text(j.j_photo_url) as photo_url,
			sync_internal.to_integer(j.j_points) as points,
			case when jsonb_typeof(j.j_owner) = 'object' then sync_internal.to_bigint(j.j_owner -> 'id')
				else sync_internal.to_bigint(j.j_owner) end as owner_id,
			case when jsonb_typeof(j.j_owner) = 'object'
				then sync_internal.to_text(coalesce(j.j_owner -> 'completName', j.j_owner -> 'name')) end as owner_name,
			sync_internal.to_boolean(j.j_archived) as archived,
			sync_internal.to_text(j.j_created_by) as created_by,
			sync_internal.to_text(j.j_created_by_name) as created_by_name,
			sync_internal.to_text(j.j_created_by_type) as created_by_type,
			sync_internal.to_text(j.j_updated_by) as updated_by,
			sync_internal.to_text(j.j_updated_by_name) as updated_by_name,
			sync_internal.to_timestamptz(j.j_create_date) as create_date,
			sync_internal.to_timestamptz(j.j_updated_date) as updated_date,
			sync_internal.to_timestamptz(j.j_last_active) as last_active
		from (
			select p_raw -> 'firstname' as j_firstname,
				p_raw -> 'lastname' as j_lastname,
				p_raw -> 'fullname' as j_fullname,
				p_raw -> 'email' as j_email,
				p_raw -> 'phone' as j_phone,
				p_raw -> 'mobile' as j_mobile,
				p_raw -> 'whatsapp' as j_whatsapp,
				p_raw -> 'address' as j_address,
				p_raw -> 'city' as j_city,
				p_raw -> 'state' as j_state,
				p_raw -> 'country' as j_country,
				p_raw -> 'zipcode' as j_zipcode,
				p_raw -> 'timezone' as j_timezone,
				p_raw -> 'company' as j_company,
				p_raw -> 'stage' as j_stage,
				p_raw -> 'preferred_locale' as j_preferred_locale,
				p_raw -> 'photoUrl' as j_photo_url,
				p_raw -> 'points' as j_points,
				p_raw -> 'owner' as j_owner,
				p_raw -> 'archived' as j_archived,
				p_raw -> 'createdBy' as j_created_by,
				p_raw -> 'createdByName' as j_created_by_name,
				p_raw -> 'createdByType' as j_created_by_type,
				p_raw -> 'updatedBy' as j_updated_by,
				p_raw -> 'updatedByName' as j_updated_by_name,
				p_raw -> 'createDate' as j_create_date,
				p_raw -> 'updatedDate' as j_updated_date,
				p_raw -> 'lastActive' as j_last_active
			offset 0
		) as j
		offset 0
	) as v;
$$;

revoke all on all functions in schema sync_internal from public, anon, authenticated;
grant execute on all functions in schema sync_internal to service_role;

-- The public casts (what users call, e.g. in generated columns): the rules above, behind a pinned search_path.
create or replace function public.sync_is_blank(p_value jsonb)
returns boolean
language sql immutable parallel safe
set search_path = public, pg_temp
as $$
	select sync_internal.is_blank(p_value);
$$;

create or replace function public.sync_to_text(p_value jsonb)
returns text
language sql immutable parallel safe
set search_path = public, pg_temp
as $$
	select sync_internal.to_text(p_value);
$$;

create or replace function public.sync_to_numeric(p_value jsonb)
returns numeric
language sql immutable parallel safe
set search_path = public, pg_temp
as $$
	select sync_internal.to_numeric(p_value);
$$;

create or replace function public.sync_to_bigint(p_value jsonb)
returns bigint
language sql immutable parallel safe
set search_path = public, pg_temp
as $$
	select sync_internal.to_bigint(p_value);
$$;

create or replace function public.sync_to_integer(p_value jsonb)
returns integer
language sql immutable parallel safe
set search_path = public, pg_temp
as $$
	select sync_internal.to_integer(p_value);
$$;

create or replace function public.sync_to_boolean(p_value jsonb)
returns boolean
language sql immutable parallel safe
set search_path = public, pg_temp
as $$
	select sync_internal.to_boolean(p_value);
$$;

create or replace function public.sync_to_timestamptz(p_value jsonb)
returns timestamptz
language sql immutable parallel unsafe
set search_path = public, pg_temp
as $$
	select sync_internal.to_timestamptz(p_value);
$$;

create or replace function public.sync_to_date(p_value jsonb)
returns date
language sql immutable parallel unsafe
set search_path = public, pg_temp
as $$
	select (sync_internal.to_timestamptz(p_value) at time zone 'UTC')::date;
$$;

-- The typed columns of a lead, from its SprintHub record (sync_apply_page inlines sync_internal.cast_lead).
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
language plpgsql immutable parallel unsafe
set search_path = public, pg_temp
as $$
begin
	-- plpgsql keeps the inlined plan for the session (a non-inlined SQL function would start an
	-- executor per call). The offset 0 keeps p_raw from being folded into a constant, which would
	-- make every call plan again.
	select c.firstname, c.lastname, c.fullname, c.email, c.phone, c.mobile, c.whatsapp, c.address, c.city, c.state,
		c.country, c.zipcode, c.timezone, c.company, c.stage, c.preferred_locale, c.photo_url, c.points, c.owner_id,
		c.owner_name, c.archived, c.created_by, c.created_by_name, c.created_by_type, c.updated_by, c.updated_by_name,
		c.create_date, c.updated_date, c.last_active, c.cast_problems
	into firstname, lastname, fullname, email, phone, mobile, whatsapp, address, city, state,
		country, zipcode, timezone, company, stage, preferred_locale, photo_url, points, owner_id,
		owner_name, archived, created_by, created_by_name, created_by_type, updated_by, updated_by_name,
		create_date, updated_date, last_active, cast_problems
	from (select p_raw as raw offset 0) as r cross join lateral sync_internal.cast_lead(r.raw) as c;
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
