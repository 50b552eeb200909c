-- How many current members of a run's segment its pass has not seen (yet): the leads a complete
-- finish would mark as left. The engine walks the segment once more before such a sweep, because a
-- lead can hide from one walk when another lead leaves and a third joins while pages are read.
-- Re-runnable.

create or replace function public.sync_leave_candidates(p_run_id uuid)
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
	select count(*) into v_count
	from sync_segment_leads s
	where s.segment_id = v_ctl.segment_id and s.left_at is null and s.last_seen_pass is distinct from v_ctl.pass_id;
	return v_count;
end;
$$;

revoke execute on function public.sync_leave_candidates(uuid) from public, anon, authenticated;
grant execute on function public.sync_leave_candidates(uuid) to service_role;

notify pgrst, 'reload schema';
