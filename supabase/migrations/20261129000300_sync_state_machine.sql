-- SprintHub Segment Sync: the state machine the engine drives through RPC.
--   sync_claim → (sync_heartbeat | sync_markers | sync_apply_page | sync_quarantine)* → sync_finish
-- Errors the engine must recognise carry PostgREST's custom status codes:
--   PT409 (HTTP 409) hint SYNC_LEASE_LOST: another worker holds the segment now, stop this run;
--   PT404 (HTTP 404) hint SYNC_UNKNOWN_RUN / SYNC_UNKNOWN_SEGMENT;
--   22023 (HTTP 400): an argument is invalid, the message says which.

-- The control row of a run that still holds its lease, locked. Raises PT409 when the lease is lost.
-- An expired lease nobody has taken over is still held: the run may go on and renew it.
create or replace function public.sync_hold_lease(p_run_id uuid)
returns public.sync_segments_control
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
	v_ctl sync_segments_control;
	v_log sync_segments_logs;
begin
	select * into v_ctl from sync_segments_control c where c.lease_run_id = p_run_id for update;
	if found then
		return v_ctl;
	end if;
	select * into v_log from sync_segments_logs l where l.run_id = p_run_id;
	if not found then
		raise sqlstate 'PT404' using message = format('unknown run %s: start runs with sync_claim', p_run_id), hint = 'SYNC_UNKNOWN_RUN';
	end if;
	select * into v_ctl from sync_segments_control c where c.segment_id = v_log.segment_id;
	raise sqlstate 'PT409' using
		message = format('lease lost: run %s no longer holds segment %s (%s); stop this run', p_run_id, v_log.segment_id,
			case when v_ctl.lease_run_id is not null then format('now held by worker %s, run %s', v_ctl.lease_owner, v_ctl.lease_run_id)
				else format('the run is %s', v_log.status) end),
		hint = 'SYNC_LEASE_LOST';
end;
$$;

-- Takes segments: the due ones (p_segment_ids null: active, next_execution passed, lease free or
-- expired, at most p_limit) or the named ones (due or not unless p_only_due; an `error` segment only
-- for manual/cli triggers). Never waits: a segment another worker holds is reported `busy`.
-- One row per segment considered; outcome: claimed | busy | paused | error | not_due | unknown.
-- A claimed row carries the run id, the lease expiry, and the checkpoint to resume from (null: a
-- new pass from the start).
create or replace function public.sync_claim(
	p_worker text,
	p_segment_ids bigint[] default null,
	p_limit integer default 10,
	p_trigger text default 'schedule',
	p_lease_seconds integer default null,
	p_only_due boolean default null)
returns table (
	segment_id bigint,
	outcome text,
	run_id uuid,
	segment_name text,
	status text,
	lease_owner text,
	lease_expires_at timestamptz,
	checkpoint jsonb,
	resumed_from uuid,
	pass_id uuid,
	enrichment_mode text,
	full_refresh_days integer,
	options jsonb,
	last_success_at timestamptz)
language plpgsql volatile
set search_path = public, pg_temp
as $$
#variable_conflict use_column
declare
	v_named boolean := p_segment_ids is not null;
	v_only_due boolean := coalesce(p_only_due, p_segment_ids is null);
	v_row sync_segments_control;
	v_taken bigint[] := '{}';
	v_run uuid;
	v_resume boolean;
	v_resumed_from uuid;
	v_takeover boolean;
begin
	if p_worker is null or btrim(p_worker) = '' then
		raise exception using errcode = '22023', message = 'p_worker must name the worker (e.g. host:pid)';
	end if;
	if p_trigger is null or p_trigger not in ('schedule', 'manual', 'cli') then
		raise exception using errcode = '22023', message = format('p_trigger must be schedule, manual or cli, not %L', p_trigger);
	end if;
	if p_limit is null or p_limit < 1 then
		raise exception using errcode = '22023', message = 'p_limit must be at least 1';
	end if;
	if p_lease_seconds is not null and p_lease_seconds not between 1 and 86400 then
		raise exception using errcode = '22023', message = 'p_lease_seconds must be between 1 and 86400';
	end if;

	for v_row in
		select c.* from sync_segments_control c
		where (case when v_named then c.segment_id = any (p_segment_ids) else c.status = 'active' end)
			and (not v_only_due or c.next_execution <= now())
			and (c.lease_run_id is null or c.lease_expires_at < now())
		order by c.next_execution nulls first, c.segment_id
		limit case when v_named then null else p_limit end
		for update skip locked
	loop
		v_taken := v_taken || v_row.segment_id;
		if v_row.status = 'paused' or (v_row.status = 'error' and p_trigger = 'schedule') then
			return query select v_row.segment_id, v_row.status, null::uuid, v_row.segment_name, v_row.status,
				null::text, null::timestamptz, null::jsonb, null::uuid, null::uuid, v_row.enrichment_mode,
				v_row.full_refresh_days, v_row.options, v_row.last_success_at;
			continue;
		end if;

		-- An expired lease: the run that held it died or stalled; close its log row.
		v_takeover := v_row.lease_run_id is not null;
		if v_takeover then
			update sync_segments_logs l
			set status = 'failed', finished_at = now(), error_class = 'system',
				duration_seconds = round(extract(epoch from now() - l.execution_time)::numeric, 3),
				message = format('lease of worker %s expired at %s without a finish; taken over by worker %s',
					v_row.lease_owner, v_row.lease_expires_at, p_worker)
			where l.run_id = v_row.lease_run_id and l.status = 'running';
		end if;

		v_run := gen_random_uuid();
		v_resume := v_row.checkpoint is not null and v_row.pass_id is not null;
		v_resumed_from := case when v_resume then v_row.checkpoint_run_id end;
		update sync_segments_control c
		set lease_owner = p_worker,
			lease_run_id = v_run,
			lease_expires_at = now() + make_interval(secs => coalesce(p_lease_seconds, c.lease_seconds)),
			lease_run_seconds = coalesce(p_lease_seconds, c.lease_seconds),
			last_execution = now(),
			last_status = 'running',
			consecutive_failures = c.consecutive_failures + case when v_takeover then 1 else 0 end,
			pass_id = case when v_resume then c.pass_id else gen_random_uuid() end,
			pass_started_at = case when v_resume then c.pass_started_at else now() end,
			checkpoint = case when v_resume then c.checkpoint end,
			checkpoint_run_id = case when v_resume then c.checkpoint_run_id end
		where c.segment_id = v_row.segment_id
		returning c.* into v_row;

		insert into sync_segments_logs (segment_id, execution_time, status, run_id, trigger, worker, resumed_from, stats)
		values (v_row.segment_id, now(), 'running', v_run, p_trigger, p_worker, v_resumed_from, '{}'::jsonb);

		return query select v_row.segment_id, 'claimed'::text, v_run, v_row.segment_name, v_row.status,
			v_row.lease_owner, v_row.lease_expires_at, v_row.checkpoint, v_resumed_from, v_row.pass_id,
			v_row.enrichment_mode, v_row.full_refresh_days, v_row.options, v_row.last_success_at;
	end loop;

	-- What was not taken: held by another worker (or being claimed right now), not due, or unknown.
	if v_named then
		return query
		select ids.id,
			case
				when c.segment_id is null then 'unknown'
				when c.lease_run_id is not null and c.lease_expires_at >= now() then 'busy'
				when c.status = 'paused' then 'paused'
				when v_only_due and (c.next_execution is null or c.next_execution > now()) then 'not_due'
				else 'busy'
			end,
			null::uuid, c.segment_name, c.status, c.lease_owner, c.lease_expires_at, null::jsonb, null::uuid,
			null::uuid, c.enrichment_mode, c.full_refresh_days, c.options, c.last_success_at
		from (select distinct unnest(p_segment_ids) as id) ids
		left join sync_segments_control c on c.segment_id = ids.id
		where not ids.id = any (v_taken)
		order by ids.id;
	else
		return query
		select c.segment_id, 'busy'::text, null::uuid, c.segment_name, c.status, c.lease_owner, c.lease_expires_at,
			null::jsonb, null::uuid, null::uuid, c.enrichment_mode, c.full_refresh_days, c.options, c.last_success_at
		from sync_segments_control c
		where c.status = 'active' and c.next_execution <= now()
			and c.lease_run_id is not null and c.lease_expires_at >= now()
			and not c.segment_id = any (v_taken)
		order by c.segment_id;
	end if;
end;
$$;

-- Extends the lease of a running run; raises PT409 (SYNC_LEASE_LOST) when the run lost it.
create or replace function public.sync_heartbeat(p_run_id uuid, p_lease_seconds integer default null)
returns timestamptz
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
	v_ctl sync_segments_control := sync_hold_lease(p_run_id);
	v_expires timestamptz;
begin
	if p_lease_seconds is not null and p_lease_seconds not between 1 and 86400 then
		raise exception using errcode = '22023', message = 'p_lease_seconds must be between 1 and 86400';
	end if;
	update sync_segments_control c
	set lease_expires_at = now() + make_interval(secs => coalesce(p_lease_seconds, c.lease_run_seconds, c.lease_seconds)),
		lease_run_seconds = coalesce(p_lease_seconds, c.lease_run_seconds, c.lease_seconds)
	where c.segment_id = v_ctl.segment_id
	returning c.lease_expires_at into v_expires;
	return v_expires;
end;
$$;

-- Applies one page in one transaction: upserts the leads, the segment membership, the run's
-- counters and the checkpoint. p_leads is a JSON array of
--   {"id": 123 (optional when record.id is there), "record": {…SprintHub record…} | absent,
--    "marker": "<change marker>" (absent: record.updatedDate), "enriched": true when record is a detail record}
-- An element without a record only records membership (the lead was seen in the list, unchanged).
-- A detail record replaces `raw`; a list record is merged into it. Unchanged leads are not rewritten.
-- p_page_key (e.g. the page number) makes a retried page count once. p_stats adds the engine's own
-- counters (requests, throttled, retries, backoff_ms, detail_calls).
-- Speed: the casts are sync_internal's inlinable expressions (see sync_helpers), so a page of 500
-- leads is cast inside one plan rather than through thousands of function calls.
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
	merged as (
		select v.id, v.enriched, m.raw, m.marker
		from valid v
		left join leads l on l.id = v.id
		cross join lateral (select
			case when v.enriched or l.raw is null then v.record else l.raw || v.record end as raw,
			case when v.has_marker then v.marker else coalesce(v.record ->> 'updatedDate', l.change_marker) end as marker) m
		where v.record is not null
			and (l.id is null or l.raw is distinct from m.raw or l.change_marker is distinct from m.marker)
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
			m.raw, m.marker, case when m.enriched then now() end, now(), now(), c.cast_problems
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
		-- Guards a race with another segment's run writing the same lead.
		where t.raw is distinct from excluded.raw or t.change_marker is distinct from excluded.change_marker
		returning t.id, (t.xmax = 0) as inserted
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
		(select count(*) from upserted where inserted),
		(select count(*) from upserted where not inserted),
		(select count(*) from membership where joined),
		(select coalesce(array_agg(id), '{}') from upserted),
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

-- What the database knows about leads, so the engine can skip detail calls. Unknown ids are absent.
create or replace function public.sync_markers(p_lead_ids bigint[])
returns table (lead_id bigint, change_marker text, enriched_at timestamptz, written_at timestamptz)
language sql stable
set search_path = public, pg_temp
as $$
	select l.id, l.change_marker, l.enriched_at, l.written_at
	from leads l
	where l.id = any (p_lead_ids)
	order by l.id;
$$;

-- Records leads a run could not fetch or write: p_items is a JSON array of
-- {"lead_id": 123, "stage": "fetch"|"write", "error": "...", "payload": {...}}. Later runs retry them.
-- Returns how many leads are recorded.
create or replace function public.sync_quarantine(p_run_id uuid, p_items jsonb)
returns integer
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
	v_ctl sync_segments_control;
	v_new integer;
	v_count integer;
begin
	if jsonb_typeof(p_items) is distinct from 'array' then
		raise exception using errcode = '22023', message = 'p_items must be a JSON array of {"lead_id", "stage", "error", "payload"}';
	end if;
	if exists (
		select 1 from jsonb_array_elements(p_items) e
		where coalesce(sync_to_bigint(coalesce(e -> 'lead_id', e -> 'id')), 0) <= 0 or coalesce(e ->> 'stage', 'fetch') not in ('fetch', 'write')
	) then
		raise exception using errcode = '22023', message = 'each quarantine item needs a positive lead_id and a stage of fetch or write';
	end if;
	v_ctl := sync_hold_lease(p_run_id);

	with items as (
		select distinct on (lead_id) sync_to_bigint(coalesce(e -> 'lead_id', e -> 'id')) as lead_id,
			coalesce(e ->> 'stage', 'fetch') as stage, left(e ->> 'error', 2000) as error, e -> 'payload' as payload
		from jsonb_array_elements(p_items) with ordinality as x(e, ord)
		order by lead_id, ord desc
	),
	fresh as (
		-- Leads not yet counted as failed by this run.
		select count(*) as n from items i
		where not exists (select 1 from sync_quarantine q where q.segment_id = v_ctl.segment_id and q.lead_id = i.lead_id
			and q.resolved_at is null and q.last_run_id = p_run_id)
	),
	upserted as (
		insert into sync_quarantine as q (segment_id, lead_id, stage, error, payload, last_run_id)
		select v_ctl.segment_id, i.lead_id, i.stage, i.error, i.payload, p_run_id from items i order by i.lead_id
		on conflict (segment_id, lead_id) where resolved_at is null do update set
			stage = excluded.stage, error = excluded.error, payload = coalesce(excluded.payload, q.payload),
			last_failed_at = now(),
			attempts = q.attempts + case when q.last_run_id is distinct from excluded.last_run_id then 1 else 0 end,
			last_run_id = excluded.last_run_id
		returning 1
	)
	select (select n from fresh), (select count(*) from upserted) into v_new, v_count;

	update sync_segments_logs l set stats = sync_add_stats(l.stats, jsonb_build_object('failed', v_new))
	where l.run_id = p_run_id and v_new > 0;
	return v_count;
end;
$$;

-- The open quarantine of a segment, oldest attempt first (what the next run should retry).
create or replace function public.sync_quarantined(p_segment_id bigint, p_limit integer default 1000)
returns table (lead_id bigint, stage text, error text, attempts integer, first_failed_at timestamptz, last_failed_at timestamptz, payload jsonb)
language sql stable
set search_path = public, pg_temp
as $$
	select q.lead_id, q.stage, q.error, q.attempts, q.first_failed_at, q.last_failed_at, q.payload
	from sync_quarantine q
	where q.segment_id = p_segment_id and q.resolved_at is null
	order by q.last_failed_at, q.lead_id
	limit greatest(coalesce(p_limit, 1000), 1);
$$;

-- Closes quarantine entries by hand or from the engine (e.g. the lead no longer exists in SprintHub).
-- p_lead_ids null: every open entry of the segment. Returns how many were closed.
create or replace function public.sync_release_quarantine(p_segment_id bigint, p_lead_ids bigint[] default null, p_resolution text default 'released')
returns integer
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
	v_count integer;
begin
	update sync_quarantine q set resolved_at = now(), resolution = coalesce(p_resolution, 'released')
	where q.segment_id = p_segment_id and q.resolved_at is null and (p_lead_ids is null or q.lead_id = any (p_lead_ids));
	get diagnostics v_count = row_count;
	return v_count;
end;
$$;

-- Closes a run. p_complete: this run finished a pass over the whole segment, so members not seen in
-- the pass are marked as left (unless more than max_leave_share of them would be: then nobody is,
-- the run becomes `partial` and the message says how to proceed) and the checkpoint is cleared.
-- Counts consecutive failures (a `failed` run) and puts the segment in `error` at the threshold;
-- success or partial resets the count. next_execution: now() + p_retry_after_seconds when given;
-- now() (resume at the next trigger) for an incomplete run that keeps a checkpoint; else from the schedule.
create or replace function public.sync_finish(
	p_run_id uuid,
	p_status text,
	p_message text default null,
	p_stats jsonb default null,
	p_complete boolean default false,
	p_error_class text default null,
	p_success_rate numeric default null,
	p_retry_after_seconds integer default null)
returns jsonb
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
	v_ctl sync_segments_control;
	v_log sync_segments_logs;
	v_status text := p_status;
	v_message text := p_message;
	v_stats jsonb;
	v_members integer := 0;
	v_leaving integer := 0;
	v_left integer := 0;
	v_blocked integer := 0;
	v_seen numeric;
	v_failed numeric;
	v_rejected numeric;
	v_rate numeric;
	v_failures integer;
	v_segment_status text;
	v_next timestamptz;
	v_complete boolean := coalesce(p_complete, false);
	v_duration numeric;
begin
	if p_status is null or p_status not in ('success', 'partial', 'rate_limited', 'failed', 'cancelled', 'skipped') then
		raise exception using errcode = '22023',
			message = format('p_status must be success, partial, rate_limited, failed, cancelled or skipped, not %L', p_status);
	end if;
	if p_error_class is not null and p_error_class not in ('configuration', 'throttled', 'transient', 'data', 'system') then
		raise exception using errcode = '22023',
			message = format('p_error_class must be configuration, throttled, transient, data or system, not %L', p_error_class);
	end if;
	if p_retry_after_seconds is not null and p_retry_after_seconds < 0 then
		raise exception using errcode = '22023', message = 'p_retry_after_seconds must not be negative';
	end if;
	-- Finishing twice (a retry after a lost response) answers what the first call stored; a run
	-- closed otherwise (taken over by another worker) still gets lease lost below.
	select * into v_log from sync_segments_logs l where l.run_id = p_run_id;
	if found and v_log.status <> 'running' and (v_log.status = p_status or (p_status = 'success' and v_log.status = 'partial')) then
		select * into v_ctl from sync_segments_control c where c.segment_id = v_log.segment_id;
		return jsonb_build_object(
			'run_id', p_run_id, 'segment_id', v_log.segment_id, 'status', v_log.status, 'message', v_log.message,
			'segment_status', v_ctl.status, 'consecutive_failures', v_ctl.consecutive_failures,
			'next_execution', v_ctl.next_execution, 'left', coalesce(sync_to_numeric(v_log.stats -> 'left'), 0),
			'left_blocked', coalesce(sync_to_numeric(v_log.stats -> 'left_blocked'), 0), 'success_rate', v_log.success_rate,
			'duration_seconds', v_log.duration_seconds, 'stats', v_log.stats, 'repeated', true);
	end if;
	v_ctl := sync_hold_lease(p_run_id);
	select * into v_log from sync_segments_logs l where l.run_id = p_run_id for update;
	v_stats := sync_add_stats(v_log.stats,
		coalesce(p_stats, '{}'::jsonb) - array['pages', 'leads_seen', 'inserted', 'updated', 'unchanged', 'joined', 'left', 'left_blocked', 'failed', 'rejected']);
	-- The engine knows when it walked a segment twice (each page is then applied twice): its
	-- per-segment figures replace the page sums. A run closed without the engine keeps the sums.
	if jsonb_typeof(p_stats -> 'leads_seen') = 'number' then
		v_stats := v_stats || jsonb_build_object('leads_seen', p_stats -> 'leads_seen');
	end if;
	if jsonb_typeof(p_stats -> 'unchanged') = 'number' then
		v_stats := v_stats || jsonb_build_object('unchanged', p_stats -> 'unchanged');
	end if;

	if v_complete and v_status in ('success', 'partial') then
		select count(*), count(*) filter (where s.last_seen_pass is distinct from v_ctl.pass_id)
		into v_members, v_leaving
		from sync_segment_leads s
		where s.segment_id = v_ctl.segment_id and s.left_at is null;
		-- Also refused: every member at once (a small segment below the minimum included), which is
		-- what one bogus empty answer would look like; max_leave_share = 1 allows it.
		if (v_leaving > v_ctl.leave_guard_min_leads and v_leaving > v_ctl.max_leave_share * v_members)
			or (v_leaving > 0 and v_leaving = v_members and v_ctl.max_leave_share < 1) then
			v_blocked := v_leaving;
			if v_status = 'success' then
				v_status := 'partial';
			end if;
			v_message := concat_ws(E'\n', v_message, format(
				'leave guard: %s of %s members were not seen in this pass (more than %s%%), so none was marked as left. '
				'If the segment really shrank, allow it once: select sync_add_segment(%s, p_max_leave_share => 1); then set it back.',
				v_leaving, v_members, round(v_ctl.max_leave_share * 100, 1), v_ctl.segment_id));
		elsif v_leaving > 0 then
			update sync_segment_leads s set left_at = now(), left_run = p_run_id
			where s.segment_id = v_ctl.segment_id and s.left_at is null and s.last_seen_pass is distinct from v_ctl.pass_id;
			get diagnostics v_left = row_count;
		end if;
	end if;
	v_stats := v_stats || jsonb_build_object('left', v_left, 'left_blocked', v_blocked);

	v_seen := coalesce(sync_to_numeric(v_stats -> 'leads_seen'), 0);
	v_failed := coalesce(sync_to_numeric(v_stats -> 'failed'), 0);
	v_rejected := coalesce(sync_to_numeric(v_stats -> 'rejected'), 0);
	-- Quarantined leads were seen; rejected elements (no usable id) were not.
	v_rate := coalesce(p_success_rate, case
		when v_seen + v_rejected > 0 then round(100 * greatest(v_seen - v_failed, 0) / (v_seen + v_rejected), 2)
		when v_status = 'success' then 100
		when v_status = 'failed' then 0
	end);

	v_failures := case
		when v_status = 'failed' then v_ctl.consecutive_failures + 1
		when v_status in ('success', 'partial') then 0
		else v_ctl.consecutive_failures
	end;
	v_segment_status := case
		when v_ctl.status = 'active' and v_failures >= v_ctl.max_consecutive_failures then 'error'
		when v_ctl.status = 'error' and v_status in ('success', 'partial') then 'active'
		else v_ctl.status
	end;
	if v_complete then
		v_ctl.checkpoint := null;
	end if;
	v_next := case
		when p_retry_after_seconds is not null then now() + make_interval(secs => p_retry_after_seconds)
		when v_ctl.run_requested_at > v_log.execution_time then now()
		-- Stopped by throttling or by hand: the next trigger resumes (from the checkpoint, if any).
		when v_status in ('rate_limited', 'cancelled') then now()
		when not v_complete and v_ctl.checkpoint is not null and v_status = 'success' then now()
		-- partial (a segment that kept moving, repeated pages) and failed runs follow the schedule:
		-- re-running them at every trigger would spend the budget on the same trouble.
		else sync_next_execution(v_ctl.schedule, now(), v_ctl.schedule_timezone)
	end;
	v_duration := round(extract(epoch from clock_timestamp() - v_log.execution_time)::numeric, 3);

	update sync_segments_logs l
	set status = v_status, message = v_message, stats = v_stats, finished_at = now(), duration_seconds = v_duration,
		success_rate = v_rate, error_class = p_error_class
	where l.run_id = p_run_id;

	update sync_segments_control c
	set lease_owner = null, lease_run_id = null, lease_expires_at = null, lease_run_seconds = null,
		status = v_segment_status,
		last_status = v_status,
		last_success_at = case when v_status = 'success' or (v_status = 'partial' and v_complete) then now() else c.last_success_at end,
		consecutive_failures = v_failures,
		next_execution = v_next,
		checkpoint = case when v_complete then null else c.checkpoint end,
		checkpoint_run_id = case when v_complete then null else c.checkpoint_run_id end,
		checkpoint_at = case when v_complete then null else c.checkpoint_at end
	where c.segment_id = v_ctl.segment_id;

	return jsonb_build_object(
		'run_id', p_run_id, 'segment_id', v_ctl.segment_id, 'status', v_status, 'message', v_message,
		'segment_status', v_segment_status, 'consecutive_failures', v_failures, 'next_execution', v_next,
		'left', v_left, 'left_blocked', v_blocked, 'success_rate', v_rate, 'duration_seconds', v_duration,
		'stats', v_stats);
end;
$$;

do $$
declare
	f text;
begin
	foreach f in array array[
		'sync_hold_lease(uuid)',
		'sync_claim(text, bigint[], integer, text, integer, boolean)',
		'sync_heartbeat(uuid, integer)',
		'sync_apply_page(uuid, jsonb, jsonb, text, jsonb)',
		'sync_markers(bigint[])',
		'sync_quarantine(uuid, jsonb)',
		'sync_quarantined(bigint, integer)',
		'sync_release_quarantine(bigint, bigint[], text)',
		'sync_finish(uuid, text, text, jsonb, boolean, text, numeric, integer)'
	] loop
		execute format('revoke execute on function public.%s from public, anon, authenticated', f);
		execute format('grant execute on function public.%s to service_role', f);
	end loop;
end $$;

notify pgrst, 'reload schema';
