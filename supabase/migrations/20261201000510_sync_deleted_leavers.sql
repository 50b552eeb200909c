-- Leavers that SprintHub deleted. A lead deleted in SprintHub drops out of its segments, so the
-- segment pages stop listing it and it was only marked as having left, its row kept as if alive.
-- Before a complete run closes, the engine asks SprintHub about the run's leavers (one detail call
-- each, under the account's budget; leavers are few) and stamps deleted_at on those SprintHub no
-- longer has; the finish then marks them left like every other leaver. Re-runnable.

-- The members of a run's segment its pass has not seen: who a complete finish would mark as left.
create or replace function public.sync_leave_candidate_ids(p_run_id uuid, p_limit integer default null)
returns setof bigint
language plpgsql volatile
security invoker
set search_path = public, pg_temp
as $$
declare
	v_ctl sync_segments_control;
begin
	v_ctl := sync_hold_lease(p_run_id);
	return query
	select s.lead_id
	from sync_segment_leads s
	where s.segment_id = v_ctl.segment_id and s.left_at is null and s.last_seen_pass is distinct from v_ctl.pass_id
	order by s.lead_id
	limit p_limit;
end;
$$;

-- The count, by the same rule.
create or replace function public.sync_leave_candidates(p_run_id uuid)
returns integer
language sql volatile
security invoker
set search_path = public, pg_temp
as $$
	select count(*)::integer from sync_leave_candidate_ids(p_run_id, null);
$$;

-- Stamps deleted_at on leads of the run's segment that SprintHub answered 404 for, and resolves
-- their quarantine; membership is left to the caller.
create or replace function sync_internal.stamp_deleted(p_segment_id bigint, p_lead_ids bigint[])
returns integer
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
	v_count integer;
begin
	update leads set deleted_at = coalesce(deleted_at, now()) where id = any(p_lead_ids) and deleted_at is null;
	get diagnostics v_count = row_count;
	update sync_quarantine q set resolved_at = now(), resolution = 'deleted in SprintHub'
	where q.segment_id = p_segment_id and q.lead_id = any(p_lead_ids) and q.resolved_at is null;
	return v_count;
end;
$$;

-- A leaver SprintHub deleted: stamped deleted, and left to the finish's sweep (counted as left).
create or replace function public.sync_stamp_deleted_leavers(p_run_id uuid, p_lead_ids bigint[])
returns integer
language plpgsql volatile
security invoker
set search_path = public, pg_temp
as $$
declare
	v_ctl sync_segments_control;
begin
	v_ctl := sync_hold_lease(p_run_id);
	return sync_internal.stamp_deleted(v_ctl.segment_id,
		array(select unnest(p_lead_ids) intersect select lead_id from sync_segment_leads where segment_id = v_ctl.segment_id));
end;
$$;

-- A lead a page listed and whose detail answered 404: stamped deleted, its membership ends now.
create or replace function public.sync_mark_deleted(p_run_id uuid, p_lead_ids bigint[])
returns integer
language plpgsql volatile
security invoker
set search_path = public, pg_temp
as $$
declare
	v_ctl sync_segments_control;
	v_count integer;
begin
	v_ctl := sync_hold_lease(p_run_id);
	perform sync_internal.stamp_deleted(v_ctl.segment_id, p_lead_ids);
	update sync_segment_leads s set left_at = now(), left_run = p_run_id
	where s.segment_id = v_ctl.segment_id and s.lead_id = any(p_lead_ids) and s.left_at is null;
	get diagnostics v_count = row_count;
	-- A lead that comes back under the same id is written by sync_apply_page, which clears deleted_at.
	return v_count;
end;
$$;

revoke execute on function sync_internal.stamp_deleted(bigint, bigint[]) from public, anon, authenticated;
grant execute on function sync_internal.stamp_deleted(bigint, bigint[]) to service_role;
do $$
declare
	f text;
begin
	foreach f in array array['sync_leave_candidate_ids(uuid, integer)', 'sync_leave_candidates(uuid)', 'sync_stamp_deleted_leavers(uuid, bigint[])', 'sync_mark_deleted(uuid, bigint[])'] loop
		execute format('revoke execute on function public.%s from public, anon, authenticated', f);
		execute format('grant execute on function public.%s to service_role', f);
	end loop;
end $$;

notify pgrst, 'reload schema';
