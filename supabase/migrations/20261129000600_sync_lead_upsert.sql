-- Lead records upserted outside a sync run (the node's Lead → Upsert, e.g. from a SprintHub webhook),
-- with the same casting rules as sync_apply_page (sync_cast_lead). Every element gets a result in
-- input order; a bad element is reported, never fatal. No segment membership is touched: only a
-- sync run knows who is in a segment.
-- Re-runnable.

-- p_records: a JSON array of SprintHub lead records ({"id": 123, ...}).
-- p_complete: true when each record carries every field (it replaces the stored record and counts
--   as a detail fetch); false merges the given fields into what is stored (a partial webhook body).
-- Returns a JSON array of {index, id, status, reason, cast_problems}, status one of
--   inserted | updated | unchanged | rejected | duplicate (a later element has the same id and wins).
create or replace function public.sync_upsert_leads(p_records jsonb, p_complete boolean default false)
returns jsonb
language plpgsql volatile
security invoker
set search_path = public, pg_temp
as $$
declare
	v_result jsonb;
begin
	if jsonb_typeof(p_records) is distinct from 'array' then
		raise exception using errcode = '22023',
			message = 'p_records must be a JSON array of SprintHub lead records ({"id": 123, ...})';
	end if;

	with items as (
		select (x.ord - 1)::integer as idx, x.e,
			case when jsonb_typeof(x.e) = 'object' then x.e -> 'id' end as id_value,
			case when jsonb_typeof(x.e) = 'object' then sync_to_bigint(x.e -> 'id') end as id
		from jsonb_array_elements(p_records) with ordinality as x(e, ord)
	),
	checked as (
		select i.idx, i.e, i.id_value, i.id,
			case
				when jsonb_typeof(i.e) is distinct from 'object' then 'not a JSON object: a SprintHub lead record is an object with an id'
				when coalesce(i.id, 0) <= 0 then 'missing or invalid lead id (a positive integer is required)'
			end as reason
		from items i
	),
	valid as (
		-- The same lead twice in one call: the last element wins, the earlier ones are reported.
		select distinct on (c.id) c.id, c.idx, c.e as record
		from checked c
		where c.reason is null
		order by c.id, c.idx desc
	),
	merged as (
		select v.id, m.raw, m.marker, l.id is null as is_new
		from valid v
		left join leads l on l.id = v.id
		cross join lateral (select
			case when p_complete or l.raw is null then v.record else l.raw || v.record end as raw,
			coalesce(v.record ->> 'updatedDate', l.change_marker) as marker) m
		where l.id is null or l.raw is distinct from m.raw or l.change_marker is distinct from m.marker
			or l.deleted_at is not null
	),
	upserted as (
		insert into leads as t (
			id, firstname, lastname, fullname, email, phone, mobile, whatsapp, address, city, state, country, zipcode,
			timezone, company, stage, preferred_locale, photo_url, points, owner_id, owner_name, archived, created_by,
			created_by_name, created_by_type, updated_by, updated_by_name, create_date, updated_date, last_active,
			raw, change_marker, enriched_at, written_at, first_written_at, cast_problems)
		select m.id, c.firstname, c.lastname, c.fullname, c.email, c.phone, c.mobile, c.whatsapp, c.address, c.city, c.state,
			c.country, c.zipcode, c.timezone, c.company, c.stage, c.preferred_locale, c.photo_url, c.points, c.owner_id,
			c.owner_name, c.archived, c.created_by, c.created_by_name, c.created_by_type, c.updated_by, c.updated_by_name,
			c.create_date, c.updated_date, c.last_active,
			m.raw, m.marker, case when p_complete then now() end, now(), now(), c.cast_problems
		from merged m
		cross join lateral sync_internal.cast_lead(m.raw) c
		order by m.id
		on conflict (id) do update set
			firstname = excluded.firstname, lastname = excluded.lastname, fullname = excluded.fullname,
			email = excluded.email, phone = excluded.phone, mobile = excluded.mobile, whatsapp = excluded.whatsapp,
			address = excluded.address, city = excluded.city, state = excluded.state, country = excluded.country,
			zipcode = excluded.zipcode, timezone = excluded.timezone, company = excluded.company, stage = excluded.stage,
			preferred_locale = excluded.preferred_locale, photo_url = excluded.photo_url, points = excluded.points,
			owner_id = coalesce(excluded.owner_id, case when jsonb_typeof(excluded.raw -> 'owner') = 'object' then t.owner_id end),
			owner_name = excluded.owner_name, archived = excluded.archived,
			created_by = excluded.created_by, created_by_name = excluded.created_by_name,
			created_by_type = excluded.created_by_type, updated_by = excluded.updated_by,
			updated_by_name = excluded.updated_by_name, create_date = excluded.create_date,
			updated_date = excluded.updated_date, last_active = excluded.last_active,
			raw = excluded.raw, change_marker = excluded.change_marker,
			enriched_at = coalesce(excluded.enriched_at, t.enriched_at),
			written_at = now(), cast_problems = excluded.cast_problems, deleted_at = null
		returning t.id, (t.xmax = 0) as inserted, t.cast_problems
	)
	select coalesce(jsonb_agg(jsonb_build_object(
			'index', c.idx,
			'id', case when c.reason is null then to_jsonb(c.id) else c.id_value end,
			'status', case
				when c.reason is not null then 'rejected'
				when v.idx is distinct from c.idx then 'duplicate'
				when u.id is not null and u.inserted then 'inserted'
				when u.id is not null then 'updated'
				else 'unchanged'
			end,
			'reason', case
				when c.reason is not null then c.reason
				when v.idx is distinct from c.idx then 'the same lead id appears later in the input; the later record was used'
			end,
			'cast_problems', case when c.reason is null and v.idx = c.idx then coalesce(u.cast_problems, l.cast_problems) end
		) order by c.idx), '[]'::jsonb)
	into v_result
	from checked c
	left join valid v on v.id = c.id
	left join upserted u on u.id = c.id
	left join leads l on l.id = c.id;

	return v_result;
end;
$$;

revoke execute on function public.sync_upsert_leads(jsonb, boolean) from public, anon, authenticated;
grant execute on function public.sync_upsert_leads(jsonb, boolean) to service_role;

notify pgrst, 'reload schema';
