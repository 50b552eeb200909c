-- Leavers pending confirmation, and a run that releases its own quarantine.
--
-- A lead is marked as having left only when two walks miss it: the pass that finishes (sync_finish
-- with p_complete) and, when that pass missed anybody, a confirming walk. A lead that leaves while a
-- run pages is seen by one walk of the run and missed by a later one: it is still a member of the
-- pass, so this run does not mark it; the next run's pass misses it and marks it after its
-- confirming walk. Such leads used to go unreported (the run said `success`). Now each membership
-- row remembers the walk that last saw it (last_seen_walk, written by sync_apply_page's p_walk),
-- sync_finish counts the members the final walk (p_walk) missed and reports them: in its answer
-- and message, in the log row (sync_segments_logs.leavers_pending) and in sync_segments_health
-- (h.leavers_pending, a computed column).
--
-- A lead whose detail call failed is quarantined and counted in the run's `failed`; when the same run
-- later writes it (e.g. on a re-walk), sync_apply_page resolves the quarantine row and now takes it
-- off the run's `failed` too, so the run no longer ends `partial` for a failure it recovered from.
--
-- sync_apply_page and sync_finish each gain a last parameter (default null: the old behaviour), so
-- the old signatures are dropped. Re-runnable.

alter table public.sync_segment_leads add column if not exists last_seen_walk integer;
alter table public.sync_segments_logs add column if not exists leavers_pending integer;

drop function if exists public.sync_apply_page(uuid, jsonb, jsonb, text, jsonb);
drop function if exists public.sync_finish(uuid, text, text, jsonb, boolean, text, numeric, integer);

-- As in 20261129000800_sync_lead_writer, plus: p_walk, the walk of the pass the page belongs to
-- (stored as the members' last_seen_walk), and `failed` lowered for this run's quarantine resolved.
create or replace function public.sync_apply_page(
	p_run_id uuid,
	p_leads jsonb,
	p_checkpoint jsonb default null,
	p_page_key text default null,
	p_stats jsonb default null,
	p_walk integer default null)
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
	v_released integer;
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
		insert into sync_segment_leads as s (segment_id, lead_id, joined_at, first_seen_at, last_seen_at, last_seen_run, last_seen_pass, last_seen_walk)
		select v_ctl.segment_id, v.id, now(), now(), now(), p_run_id, v_ctl.pass_id, p_walk
		from valid v
		order by v.id
		on conflict (segment_id, lead_id) do update set
			last_seen_at = now(), last_seen_run = excluded.last_seen_run, last_seen_pass = excluded.last_seen_pass,
			last_seen_walk = excluded.last_seen_walk,
			joined_at = case when s.left_at is not null then now() else s.joined_at end,
			left_at = null, left_run = null
		where s.last_seen_run is distinct from excluded.last_seen_run
			or s.last_seen_pass is distinct from excluded.last_seen_pass or s.left_at is not null
			or s.last_seen_walk is distinct from excluded.last_seen_walk
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

	-- Leads written now leave the quarantine (a fetch failure only with a detail record). Those this
	-- run quarantined itself (a detail call that failed, then succeeded on a later walk) are no longer
	-- failures of the run: its `failed` goes down by as many.
	with released as (
		update sync_quarantine q set resolved_at = now(), resolution = format('written by run %s', p_run_id)
		where q.resolved_at is null and q.lead_id = any (v_recorded)
			and (q.stage = 'write' or q.lead_id = any (v_enriched))
		returning q.last_run_id
	)
	select count(*) filter (where r.last_run_id = p_run_id) into v_released from released r;

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
				'unchanged', v_seen - v_inserted - v_updated, 'joined', v_joined, 'rejected', v_rejected_count)
				|| case when v_released > 0 then jsonb_build_object('failed', -v_released) else '{}'::jsonb end)
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


-- As in 20261129000300_sync_state_machine, plus: p_walk, the walk of the pass that saw the whole
-- segment; with it a complete finish counts the leavers pending confirmation (leavers_pending).
create or replace function public.sync_finish(
	p_run_id uuid,
	p_status text,
	p_message text default null,
	p_stats jsonb default null,
	p_complete boolean default false,
	p_error_class text default null,
	p_success_rate numeric default null,
	p_retry_after_seconds integer default null,
	p_walk integer default null)
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
	v_pending integer := 0;
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
			'duration_seconds', v_log.duration_seconds, 'stats', v_log.stats,
			'leavers_pending', coalesce(v_log.leavers_pending, 0), 'repeated', true);
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
		-- Seen by an earlier walk of the pass but not by the walk that saw the whole segment (p_walk):
		-- they left while the run paged, or a page shifted under the walk. One walk missing a lead is
		-- not enough to mark it; the next run's pass does not see them and its confirming walk marks them.
		if p_walk is not null then
			select count(*) into v_pending
			from sync_segment_leads s
			where s.segment_id = v_ctl.segment_id and s.left_at is null and s.last_seen_pass = v_ctl.pass_id
				and s.last_seen_walk < p_walk;
			if v_pending > 0 then
				v_message := concat_ws(' ', v_message, format(
					'%s %s pending confirmation: seen by an earlier walk of this run but not by the last one; the next run marks them as left if it misses them too.',
					v_pending, case when v_pending = 1 then 'leaver' else 'leavers' end));
			end if;
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
		success_rate = v_rate, error_class = p_error_class, leavers_pending = v_pending
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
		'stats', v_stats, 'leavers_pending', v_pending);
end;
$$;


-- The health view carries the count as a computed column, read as `h.leavers_pending`
-- (`select h.segment_id, h.leavers_pending from sync_segments_health h;`, or with PostgREST
-- `select=*,leavers_pending`): the last finished run's, the run whose message is last_message.
-- Not a column of the view itself: 20261129000400's `create or replace view` must stay re-runnable,
-- and a view cannot be replaced by one with fewer columns.
create or replace function public.leavers_pending(p_health public.sync_segments_health)
returns integer
language sql stable
security invoker
set search_path = public, pg_temp
as $$
	select coalesce((
		select l.leavers_pending
		from sync_segments_logs l
		where l.segment_id = p_health.segment_id and l.status <> 'running'
		order by l.execution_time desc
		limit 1), 0);
$$;


do $$
declare
	f text;
begin
	foreach f in array array[
		'sync_apply_page(uuid, jsonb, jsonb, text, jsonb, integer)',
		'sync_finish(uuid, text, text, jsonb, boolean, text, numeric, integer, integer)',
		'leavers_pending(public.sync_segments_health)'
	] loop
		execute format('revoke execute on function public.%s from public, anon, authenticated', f);
		execute format('grant execute on function public.%s to service_role', f);
	end loop;
end $$;

notify pgrst, 'reload schema';
