-- Lead → Upsert from a webhook (issue 13). A webhook body is a hint: by default the node fetches the
-- lead from SprintHub and writes that record (sync_upsert_leads, complete), or, when SprintHub answers
-- 404, marks a known lead deleted (sync_mark_leads_deleted). Users who choose to trust the body get
-- sync_upsert_leads_guarded: it never brings a deleted lead back and never overwrites a record whose
-- change marker is newer than the body's.
-- Re-runnable.

-- Leads SprintHub answered 404 for, outside a sync run: stamps deleted_at on the known ones that are
-- not stamped yet and returns their ids. Unknown ids write nothing. Memberships are left to the next
-- sync run of each segment (it sees the lead gone and marks it left).
create or replace function public.sync_mark_leads_deleted(p_lead_ids bigint[])
returns bigint[]
language sql volatile
security invoker
set search_path = public, pg_temp
as $$
	with stamped as (
		update leads set deleted_at = now()
		where id = any (coalesce(p_lead_ids, '{}')) and deleted_at is null
		returning id
	)
	select coalesce(array_agg(id order by id), '{}') from stamped;
$$;

revoke execute on function public.sync_mark_leads_deleted(bigint[]) from public, anon, authenticated;
grant execute on function public.sync_mark_leads_deleted(bigint[]) to service_role;

-- Records upserted as they are given ("trust the body"), with two guards: a lead marked deleted
-- stays deleted (only SprintHub's own record, fetched or synced, brings it back), and a stored lead
-- is not overwritten by a record whose change marker (updatedDate) is older than the stored one, or
-- missing while the stored lead has one (nothing says the body is newer). Such records come back
-- with status "skipped" and the reason. The rows are locked first, so a sync writing the same leads
-- meanwhile cannot slip between the check and the write. Otherwise as sync_upsert_leads.
create or replace function public.sync_upsert_leads_guarded(p_records jsonb, p_complete boolean default false)
returns jsonb
language plpgsql volatile
security invoker
set search_path = public, pg_temp
as $$
declare
	v_items jsonb;
	v_allowed jsonb;
	v_written jsonb;
begin
	if jsonb_typeof(p_records) is distinct from 'array' then
		raise exception using errcode = '22023',
			message = 'p_records must be a JSON array of SprintHub lead records ({"id": 123, ...})';
	end if;

	perform 1 from leads l
	where l.id in (select sync_internal.to_bigint(x.e -> 'id') from jsonb_array_elements(p_records) x(e) where jsonb_typeof(x.e) = 'object')
	order by l.id
	for update;

	-- Each element with the reason it is skipped (null: it goes to sync_upsert_leads).
	select coalesce(jsonb_agg(jsonb_build_object('ord', x.ord, 'e', x.e, 'skip', s.reason) order by x.ord), '[]'::jsonb)
	into v_items
	from jsonb_array_elements(p_records) with ordinality as x(e, ord)
	left join leads l on jsonb_typeof(x.e) = 'object' and l.id = sync_internal.to_bigint(x.e -> 'id')
	cross join lateral (select
		case
			when l.id is null then null
			when l.deleted_at is not null then 'the lead is marked deleted; only its record fetched from SprintHub brings it back'
			when l.change_marker is not null and sync_internal.timestamptz_of_text(l.change_marker) is not null
				and sync_internal.timestamptz_of_text(x.e ->> 'updatedDate') is null
				then 'the record has no valid updatedDate, so nothing says it is newer than the stored lead'
			when sync_internal.timestamptz_of_text(l.change_marker) > sync_internal.timestamptz_of_text(x.e ->> 'updatedDate')
				then format('the stored lead is newer (updatedDate %s) than the record (%s)', l.change_marker, x.e ->> 'updatedDate')
		end as reason) s;

	select coalesce(jsonb_agg(i -> 'e' order by (i ->> 'ord')::integer), '[]'::jsonb)
	into v_allowed
	from jsonb_array_elements(v_items) i
	where i ->> 'skip' is null;

	v_written := sync_upsert_leads(v_allowed, p_complete);

	-- Results in input order: the written ones from sync_upsert_leads (its indexes count only the
	-- allowed elements), the skipped ones here.
	return (
		select coalesce(jsonb_agg(r order by a.ord), '[]'::jsonb)
		from (
			select (i ->> 'ord')::integer as ord, i,
				case when i ->> 'skip' is null
					then row_number() over (partition by i ->> 'skip' is null order by (i ->> 'ord')::integer) - 1 end as allowed_index
			from jsonb_array_elements(v_items) i
		) a
		cross join lateral (select case
			when a.i ->> 'skip' is not null then jsonb_build_object(
				'index', a.ord - 1, 'id', a.i -> 'e' -> 'id', 'status', 'skipped', 'reason', a.i ->> 'skip', 'cast_problems', null)
			else (v_written -> a.allowed_index::integer) || jsonb_build_object('index', a.ord - 1)
		end as r) w
	);
end;
$$;

revoke execute on function public.sync_upsert_leads_guarded(jsonb, boolean) from public, anon, authenticated;
grant execute on function public.sync_upsert_leads_guarded(jsonb, boolean) to service_role;

notify pgrst, 'reload schema';
