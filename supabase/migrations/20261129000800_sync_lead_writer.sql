-- One writer of lead rows: sync_internal.write_leads. A sync run's pages (sync_apply_page) and the
-- node's Lead → Upsert (sync_upsert_leads) both write `leads` through it, so the rules of a lead row
-- live in one place: how a record merges into the stored one, which change marker is kept, the typed
-- columns and cast_problems (sync_internal.cast_lead), enriched_at, deleted_at, and when a row is not
-- rewritten. Both functions are redefined here to call it. What changes for them: a lead written
-- by another transaction with the same content meanwhile is left as it is (before, only a page
-- checked), and a page makes a lead marked deleted live again even when its record did not change
-- (before, only Lead → Upsert did).
-- Re-runnable.

-- One lead to write.
--   record: the SprintHub record ({"id": 123, ...});
--   complete: the record carries every field (a detail record): it replaces the stored record and
--     stamps enriched_at; otherwise its fields are merged into the stored record;
--   marker_given, marker: the change marker to store; without one, the record's updatedDate, else
--     the stored marker.
do $$
begin
	if to_regtype('sync_internal.lead_write') is null then
		create type sync_internal.lead_write as (id bigint, record jsonb, complete boolean, marker_given boolean, marker text);
	end if;
end $$;

-- Writes the given leads (one element per id) and returns the rows it wrote: inserted is true for
-- a new lead, false for a rewritten one; a lead not returned was unchanged. A row is rewritten only
-- when its raw record or change marker would change, or to make a lead marked deleted live again:
-- checked against the stored row before anything is cast, and again on the conflict, for a row
-- another transaction wrote meanwhile (e.g. a run of another segment with the same lead). Rows are
-- written in id order, so two writers of the same leads take their locks in the same order.
-- plpgsql, so each session plans the statement once; the casts inline into it (see sync_helpers).
create or replace function sync_internal.write_leads(p_leads sync_internal.lead_write[])
returns table (lead_id bigint, inserted boolean, cast_problems jsonb)
language plpgsql volatile
security invoker
set search_path = public, pg_temp
as $$
#variable_conflict use_column
begin
	if coalesce(cardinality(p_leads), 0) = 0 then
		return;
	end if;
	return query
	with merged as (
		select w.id, w.complete, m.raw, m.marker
		from unnest(p_leads) as w
		left join leads l on l.id = w.id
		cross join lateral (select
			case when w.complete or l.raw is null then w.record else l.raw || w.record end as raw,
			case when w.marker_given then w.marker else coalesce(w.record ->> 'updatedDate', l.change_marker) end as marker) m
		where l.id is null or l.raw is distinct from m.raw or l.change_marker is distinct from m.marker
			or l.deleted_at is not null
	),
	written as (
		insert into leads as t (
			id, firstname, lastname, fullname, email, phone, mobile, whatsapp, address, city, state, country, zipcode,
			timezone, company, stage, preferred_locale, photo_url, points, owner_id, owner_name, archived, created_by,
			created_by_name, created_by_type, updated_by, updated_by_name, create_date, updated_date, last_active,
			raw, change_marker, enriched_at, written_at, first_written_at, cast_problems)
		select m.id, c.firstname, c.lastname, c.fullname, c.email, c.phone, c.mobile, c.whatsapp, c.address, c.city, c.state,
			c.country, c.zipcode, c.timezone, c.company, c.stage, c.preferred_locale, c.photo_url, c.points, c.owner_id,
			c.owner_name, c.archived, c.created_by, c.created_by_name, c.created_by_type, c.updated_by, c.updated_by_name,
			c.create_date, c.updated_date, c.last_active,
			m.raw, m.marker, case when m.complete then now() end, now(), now(), c.cast_problems
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
		where t.raw is distinct from excluded.raw or t.change_marker is distinct from excluded.change_marker
			or t.deleted_at is not null
		returning t.id, (t.xmax = 0) as inserted, t.cast_problems
	)
	select w.id, w.inserted, w.cast_problems from written w;
end;
$$;

revoke all on function sync_internal.write_leads(sync_internal.lead_write[]) from public, anon, authenticated;
grant execute on function sync_internal.write_leads(sync_internal.lead_write[]) to service_role;

-- Applies one page in one transaction: upserts the leads, the segment membership, the run's
-- counters and the checkpoint. p_leads is a JSON array of
--   {"id": 123 (optional when record.id is there), "record": {…SprintHub record…} | absent,
--    "marker": "<change marker>" (absent: record.updatedDate), "enriched": true when record is a detail record}
-- An element without a record only records membership (the lead was seen in the list, unchanged).
-- A detail record replaces `raw`; a list record is merged into it. Unchanged leads are not rewritten
-- (sync_internal.write_leads writes the rows).
-- p_page_key (e.g. the page number) makes a retried page count once. p_stats adds the engine's own
-- counters (requests, throttled, retries, backoff_ms, detail_calls).
create or replace function public.sync_apply_page(
	p_run_id uuid,
	p_leads jsonb,
	p_checkpoint jsonb default null,
	p_page_key text default null,
	p_stats jsonb default null)
returns jsonb
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
	v_ctl sync_segments_control;
	v_started timestamptz;
	v_repeated boolean := false;
	v_rejected jsonb;
	v_rejected_count integer;
	v_seen integer;
	v_with_record integer;
	v_inserted integer;
	v_updated integer;
	v_joined integer;
	v_written bigint[];
	v_enriched bigint[];
	v_recorded bigint[];
	v_result jsonb;
begin
	if jsonb_typeof(p_leads) is distinct from 'array' then
		raise exception using errcode = '22023',
			message = 'p_leads must be a JSON array of {"record": {...}, "marker": "...", "enriched": true|false}';
	end if;
	v_ctl := sync_hold_lease(p_run_id);
	select l.execution_time into v_started from sync_segments_logs l where l.run_id = p_run_id;
	if p_page_key is not null then
		insert into sync_run_pages (run_id, page_key) values (p_run_id, p_page_key) on conflict do nothing;
		v_repeated := not found;
	end if;

	-- One pass over the page: each element is taken apart once (every `->` copies the value it
	-- returns, and expanding p_leads again costs as much as the first time), its id and record.id are
	-- cast once each, and both the valid leads and the rejected elements are read from that.
	with elements as materialized (
		select x.ord, p.id_value, p.record, p.record_id,
			jsonb_typeof(x.e) = 'object' as is_object,
			x.e ? 'id' as has_id,
			x.e ? 'record' as has_record,
			x.e ? 'marker' as has_marker,
			x.e ->> 'marker' as marker,
			x.e -> 'enriched' as enriched,
			jsonb_typeof(p.record) as record_type,
			sync_internal.to_bigint(coalesce(p.id_value, p.record_id)) as id,
			sync_internal.is_blank(p.record_id) as record_id_blank,
			sync_internal.to_bigint(p.record_id) as record_id_number
		from jsonb_array_elements(p_leads) with ordinality as x(e, ord)
		cross join lateral (select x.e -> 'id' as id_value, x.e -> 'record' as record, x.e -> 'record' -> 'id' as record_id offset 0) as p
	),
	-- Elements that cannot be keyed are reported, never fatal.
	rejected as (
		select r.ord, r.id_value, r.reason
		from (
			select el.ord, case when el.is_object then coalesce(el.id_value, el.record_id) end as id_value,
				case
					when el.is_object is distinct from true then 'element is not an object'
					when el.has_record and el.record_type not in ('object', 'null') then 'record is not an object'
					when coalesce(el.id, 0) <= 0 then 'missing or invalid lead id (a positive integer is required)'
					-- With an id key, el.id is the cast of that id (coalesce took it).
					when el.has_id and el.record_type = 'object' and not el.record_id_blank
						and el.record_id_number is distinct from el.id then 'id and record.id differ'
				end as reason
			from elements el
		) r
		where r.reason is not null
	),
	valid as (
		-- The same lead twice in a page (pages shift while a segment changes): the last one wins.
		select distinct on (i.id) i.id,
			case when i.record_type = 'object' then i.record end as record,
			i.has_marker,
			i.marker,
			coalesce(sync_internal.to_boolean(i.enriched), false) as enriched
		from elements i
		where i.is_object and (not i.has_record or i.record_type in ('object', 'null'))
			and i.id > 0 and (not i.has_id or i.record_id_blank or i.record_id_number = i.id)
		order by i.id, i.ord desc
	),
	-- Leads sent with a record; the rows of unchanged ones are not rewritten, and not returned.
	written as materialized (
		select w.lead_id as id, w.inserted
		from sync_internal.write_leads(array(
			select row(v.id, v.record, v.enriched, v.has_marker, v.marker)::sync_internal.lead_write
			from valid v where v.record is not null)) as w
	),
	membership as (
		insert into sync_segment_leads as s (segment_id, lead_id, joined_at, first_seen_at, last_seen_at, last_seen_run, last_seen_pass)
		select v_ctl.segment_id, v.id, now(), now(), now(), p_run_id, v_ctl.pass_id
		from valid v
		order by v.id
		on conflict (segment_id, lead_id) do update set
			last_seen_at = now(), last_seen_run = excluded.last_seen_run, last_seen_pass = excluded.last_seen_pass,
			joined_at = case when s.left_at is not null then now() else s.joined_at end,
			left_at = null, left_run = null
		where s.last_seen_run is distinct from excluded.last_seen_run
			or s.last_seen_pass is distinct from excluded.last_seen_pass or s.left_at is not null
		returning (s.xmax = 0) as joined
	)
	select
		(select coalesce(jsonb_agg(jsonb_build_object('index', r.ord - 1, 'id', r.id_value, 'reason', r.reason) order by r.ord), '[]'::jsonb) from rejected r),
		(select count(*) from rejected),
		(select count(*) from valid),
		(select count(*) from valid where record is not null),
		(select count(*) from written where inserted),
		(select count(*) from written where not inserted),
		(select count(*) from membership where joined),
		(select coalesce(array_agg(id), '{}') from written),
		(select coalesce(array_agg(id), '{}') from valid where enriched and record is not null),
		(select coalesce(array_agg(id), '{}') from valid where record is not null)
	into v_rejected, v_rejected_count, v_seen, v_with_record, v_inserted, v_updated, v_joined, v_written, v_enriched, v_recorded;

	-- A detail record identical to what is stored still restarts the full-refresh clock, once per run.
	update leads t set enriched_at = now()
	where t.id = any (v_enriched) and not t.id = any (v_written)
		and (t.enriched_at is null or t.enriched_at < v_started);

	-- Leads written now leave the quarantine (a fetch failure only with a detail record).
	update sync_quarantine q set resolved_at = now(), resolution = format('written by run %s', p_run_id)
	where q.resolved_at is null and q.lead_id = any (v_recorded)
		and (q.stage = 'write' or q.lead_id = any (v_enriched));

	v_result := jsonb_build_object(
		'segment_id', v_ctl.segment_id, 'run_id', p_run_id, 'seen', v_seen, 'inserted', v_inserted,
		'updated', v_updated, 'unchanged', v_seen - v_inserted - v_updated, 'joined', v_joined,
		'rejected', v_rejected, 'repeated', v_repeated);

	if not v_repeated then
		update sync_segments_logs l
		set stats = sync_add_stats(
			sync_add_stats(l.stats, coalesce(p_stats, '{}'::jsonb) - array['pages', 'leads_seen', 'inserted', 'updated', 'unchanged', 'joined', 'left', 'left_blocked', 'failed', 'rejected']),
			-- A list page may be written in several calls; the last carries the checkpoint, so it
			-- counts the page. Leads sent for membership only (no rewrite needed, or quarantined this
			-- run: see failed) count as unchanged.
			jsonb_build_object('pages', case when p_checkpoint is not null or p_page_key is null then 1 else 0 end,
				'leads_seen', v_seen, 'inserted', v_inserted, 'updated', v_updated,
				'unchanged', v_seen - v_inserted - v_updated, 'joined', v_joined, 'rejected', v_rejected_count))
		where l.run_id = p_run_id;
		if p_page_key is not null then
			update sync_run_pages set result = v_result where run_id = p_run_id and page_key = p_page_key;
		end if;
	end if;

	update sync_segments_control c
	set checkpoint = coalesce(p_checkpoint, c.checkpoint),
		checkpoint_run_id = case when p_checkpoint is not null then p_run_id else c.checkpoint_run_id end,
		checkpoint_at = case when p_checkpoint is not null then now() else c.checkpoint_at end,
		lease_expires_at = greatest(c.lease_expires_at, now() + make_interval(secs => coalesce(c.lease_run_seconds, c.lease_seconds)))
	where c.segment_id = v_ctl.segment_id
	returning c.lease_expires_at into v_ctl.lease_expires_at;

	return v_result || jsonb_build_object('lease_expires_at', v_ctl.lease_expires_at);
end;
$$;

revoke execute on function public.sync_apply_page(uuid, jsonb, jsonb, text, jsonb) from public, anon, authenticated;
grant execute on function public.sync_apply_page(uuid, jsonb, jsonb, text, jsonb) to service_role;

-- Lead records upserted outside a sync run (the node's Lead → Upsert, e.g. from a SprintHub webhook),
-- written like a sync's (sync_internal.write_leads). Every element gets a result in input order; a
-- bad element is reported, never fatal. No segment membership is touched: only a sync run knows who
-- is in a segment.
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
	written as materialized (
		select w.lead_id as id, w.inserted, w.cast_problems
		from sync_internal.write_leads(array(
			select row(v.id, v.record, p_complete, false, null)::sync_internal.lead_write
			from valid v)) as w
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
			'cast_problems', case when c.reason is null and v.idx = c.idx then u.cast_problems end
		) order by c.idx), '[]'::jsonb)
	into v_result
	from checked c
	left join valid v on v.id = c.id
	left join written u on u.id = c.id;

	-- An unchanged lead reports the cast problems of its stored row, read after the write: a lead
	-- another transaction wrote with the same content meanwhile was left as it is, and this
	-- statement, unlike the one above, sees that row.
	select coalesce(jsonb_agg(case when r.e ->> 'status' = 'unchanged'
			then r.e || jsonb_build_object('cast_problems', l.cast_problems) else r.e end order by r.ord), '[]'::jsonb)
	into v_result
	from jsonb_array_elements(v_result) with ordinality as r(e, ord)
	left join leads l on l.id = case when r.e ->> 'status' = 'unchanged' then (r.e ->> 'id')::bigint end;

	return v_result;
end;
$$;

revoke execute on function public.sync_upsert_leads(jsonb, boolean) from public, anon, authenticated;
grant execute on function public.sync_upsert_leads(jsonb, boolean) to service_role;

notify pgrst, 'reload schema';
