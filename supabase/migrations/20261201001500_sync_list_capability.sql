-- SprintHub Segment Sync: enrichment "auto" and what each account's segment lists can carry.
--
--   select * from sync_list_capabilities;
--   delete from sync_list_capabilities where instance = 'acme';   -- the next run checks again
--
-- Enrichment "auto" (the new default for new segments) finds out, per SprintHub account, whether the
-- segment list endpoint gives full lead records (allFields=1 and a projection naming every field a
-- detail record has) by comparing list and detail records of a few leads. When they agree, segments of
-- the account are synced from list pages alone (about N/1000 calls instead of one per lead) and each run
-- re-verifies one lead; when they do not, runs make detail calls as in "changed". Segments added before
-- this migration keep the mode they have ('changed' was the default then).

create table if not exists public.sync_list_capabilities (
	-- lower(base URL)|lower(instance), as the engine builds it (the same key as sync_account_budgets).
	account_key text primary key,
	base_url text not null default '',
	instance text not null default '',
	-- True: list records equalled detail records for every lead of the sample.
	list_complete boolean not null,
	-- How the list was asked: 'allFields+projection' (the query parameter and every field named).
	asked_with text not null,
	-- The fields a detail record had in the sample: a list record must carry all of them to be stored as complete.
	fields text[] not null default '{}',
	-- The fields the projection named when the account was checked (a field learned since is worth a new check).
	fields_asked text[] not null default '{}',
	-- Detail fields the list left out, and fields whose list value differed from what a detail call stores.
	missing_fields text[] not null default '{}',
	differing_fields text[] not null default '{}',
	sample_size integer not null default 0,
	checked_at timestamptz not null default now(),
	-- Last run that re-verified one lead against its detail record (list_complete accounts).
	verified_at timestamptz,
	note text
);

comment on table public.sync_list_capabilities is
	'Per SprintHub account: whether segment list pages carry full lead records (enrichment auto). Delete a row to have the next run check again.';

alter table public.sync_list_capabilities enable row level security;
revoke all on table public.sync_list_capabilities from public, anon, authenticated;
grant select, insert, update, delete on table public.sync_list_capabilities to service_role;

-- Records what a run learned (a check, or a re-verification that failed or passed).
create or replace function public.sync_record_list_capability(
	p_account_key text,
	p_base_url text,
	p_instance text,
	p_list_complete boolean,
	p_asked_with text,
	p_fields text[],
	p_fields_asked text[],
	p_missing_fields text[],
	p_differing_fields text[],
	p_sample_size integer,
	p_verified boolean default false,
	p_note text default null)
returns public.sync_list_capabilities
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
	v_row sync_list_capabilities;
begin
	if p_account_key is null or length(p_account_key) = 0 or length(p_account_key) > 600 then
		raise sqlstate '22023' using message = 'sync list capability: the account key is missing or too long';
	end if;
	insert into sync_list_capabilities as c (account_key, base_url, instance, list_complete, asked_with, fields, fields_asked,
		missing_fields, differing_fields, sample_size, checked_at, verified_at, note)
	values (p_account_key, coalesce(p_base_url, ''), coalesce(p_instance, ''), p_list_complete, coalesce(p_asked_with, ''),
		coalesce(p_fields, '{}'), coalesce(p_fields_asked, '{}'), coalesce(p_missing_fields, '{}'), coalesce(p_differing_fields, '{}'),
		coalesce(p_sample_size, 0), now(), case when p_verified then now() end, p_note)
	on conflict (account_key) do update set
		list_complete = excluded.list_complete,
		asked_with = excluded.asked_with,
		fields = excluded.fields,
		fields_asked = excluded.fields_asked,
		missing_fields = excluded.missing_fields,
		differing_fields = excluded.differing_fields,
		sample_size = excluded.sample_size,
		checked_at = case when p_verified and c.list_complete = excluded.list_complete then c.checked_at else now() end,
		verified_at = case when p_verified then now() else c.verified_at end,
		note = excluded.note
	returning c.* into v_row;
	return v_row;
end;
$$;

-- The field names of the most recently enriched stored records: what a projection must name to ask a
-- list for every field (custom fields included), learned from what detail calls returned.
create or replace function public.sync_known_lead_fields(p_limit integer default 200)
returns text[]
language sql stable
set search_path = public, pg_temp
as $$
	select coalesce(array_agg(distinct k order by k), '{}')
	from (select raw from leads where enriched_at is not null order by enriched_at desc limit greatest(1, least(coalesce(p_limit, 200), 5000))) r,
		lateral jsonb_object_keys(case when jsonb_typeof(r.raw) = 'object' then r.raw else '{}'::jsonb end) k;
$$;

-- 'auto' joins the enrichment modes and is the default for segments added from now on.
alter table public.sync_segments_control drop constraint if exists sync_segments_control_enrichment_mode_check;
alter table public.sync_segments_control add constraint sync_segments_control_enrichment_mode_check
	check (enrichment_mode in ('auto', 'changed', 'all', 'none'));
alter table public.sync_segments_control alter column enrichment_mode set default 'auto';

-- sync_add_segment as issue 13's input checks left it (20261201001100), accepting 'auto' (its default now).
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
	if p_enrichment_mode is not null and p_enrichment_mode not in ('auto', 'changed', 'all', 'none') then
		raise exception using errcode = '22023', message = format('p_enrichment_mode must be auto, changed, all or none, not %L', p_enrichment_mode),
			hint = 'auto: list records when the account''s lists carry every field, else as changed; changed: details for new or changed leads; all: details for every lead; none: list fields only.';
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
		coalesce(p_enrichment_mode, 'auto'), coalesce(p_full_refresh_days, 30), coalesce(p_max_leave_share, 0.5),
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


revoke execute on function public.sync_record_list_capability(text, text, text, boolean, text, text[], text[], text[], text[], integer, boolean, text) from public, anon, authenticated;
revoke execute on function public.sync_known_lead_fields(integer) from public, anon, authenticated;
grant execute on function public.sync_record_list_capability(text, text, text, boolean, text, text[], text[], text[], text[], integer, boolean, text) to service_role;
grant execute on function public.sync_known_lead_fields(integer) to service_role;
