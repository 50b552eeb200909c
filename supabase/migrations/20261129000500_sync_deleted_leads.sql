-- Leads SprintHub no longer has (the detail call answered 404): the row is kept for history,
-- stamped deleted_at, and its membership in the run's segment ends now rather than at the sweep.
-- Re-runnable.

alter table public.leads add column if not exists deleted_at timestamptz;
create index if not exists leads_deleted_idx on public.leads (deleted_at) where deleted_at is not null;

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
	update leads set deleted_at = coalesce(deleted_at, now()) where id = any(p_lead_ids);
	update sync_segment_leads s set left_at = now(), left_run = p_run_id
	where s.segment_id = v_ctl.segment_id and s.lead_id = any(p_lead_ids) and s.left_at is null;
	get diagnostics v_count = row_count;
	update sync_quarantine q set resolved_at = now(), resolution = 'deleted in SprintHub'
	where q.segment_id = v_ctl.segment_id and q.lead_id = any(p_lead_ids) and q.resolved_at is null;
	-- A lead that comes back under the same id is written by sync_apply_page, which clears deleted_at.
	return v_count;
end;
$$;

revoke execute on function public.sync_mark_deleted(uuid, bigint[]) from public, anon, authenticated;
grant execute on function public.sync_mark_deleted(uuid, bigint[]) to service_role;

notify pgrst, 'reload schema';
