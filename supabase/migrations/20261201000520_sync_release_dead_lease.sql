-- A dead holder's lease. A process killed while it holds a segment (SIGKILL, OOM, a crashed
-- container) kept it locked for the whole lease (300 s by default). An engine on the same host can
-- tell that the holder's process no longer exists; it then ends the lease at once, and the next
-- claim takes the segment over as after an expiry (the dead run's log row is closed as failed and
-- the new run resumes from the checkpoint). Holders on other hosts still expire as before.
-- Re-runnable.

create or replace function public.sync_release_dead_lease(p_segment_id bigint, p_dead_owner text)
returns boolean
language plpgsql volatile
security invoker
set search_path = public, pg_temp
as $$
declare
	v_count integer;
begin
	if p_dead_owner is null or btrim(p_dead_owner) = '' then
		raise exception using errcode = '22023', message = 'p_dead_owner must name the worker whose process is gone';
	end if;
	-- Only the lease that dead worker still holds: never one another worker took since.
	update sync_segments_control c
	set lease_expires_at = least(c.lease_expires_at, now() - interval '1 millisecond')
	where c.segment_id = p_segment_id and c.lease_owner = p_dead_owner and c.lease_run_id is not null;
	get diagnostics v_count = row_count;
	return v_count > 0;
end;
$$;

revoke execute on function public.sync_release_dead_lease(bigint, text) from public, anon, authenticated;
grant execute on function public.sync_release_dead_lease(bigint, text) to service_role;

notify pgrst, 'reload schema';
