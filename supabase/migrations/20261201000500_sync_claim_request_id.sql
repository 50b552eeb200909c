-- Idempotent claims. A claim whose answer was lost (a dropped connection, a gateway timeout) is sent
-- again by the engine with the same request id; without this the retry found the segment leased by
-- the lost attempt ("busy") and the segment stayed locked for the lease time. sync_claim now takes
-- p_request_id: the runs a request claimed are recorded on their log rows, and a retried request gets
-- the same runs (the same leases) back instead of claiming again.
-- The claim logic itself stays in one place: the original function moves to
-- sync_internal.claim_segments and the public one wraps it. Re-runnable.

alter table public.sync_segments_logs add column if not exists claim_request_id uuid;
create index if not exists sync_segments_logs_claim_request_idx
	on public.sync_segments_logs (claim_request_id) where claim_request_id is not null;

do $$
begin
	if to_regprocedure('public.sync_claim(text, bigint[], integer, text, integer, boolean)') is not null then
		if to_regprocedure('sync_internal.claim_segments(text, bigint[], integer, text, integer, boolean)') is not null then
			-- Migrations applied again from the start recreated the old public function: the moved one stays.
			drop function public.sync_claim(text, bigint[], integer, text, integer, boolean);
		else
			alter function public.sync_claim(text, bigint[], integer, text, integer, boolean) set schema sync_internal;
			alter function sync_internal.sync_claim(text, bigint[], integer, text, integer, boolean) rename to claim_segments;
		end if;
	end if;
end $$;
revoke execute on function sync_internal.claim_segments(text, bigint[], integer, text, integer, boolean) from public, anon, authenticated;
grant execute on function sync_internal.claim_segments(text, bigint[], integer, text, integer, boolean) to service_role;

create or replace function public.sync_claim(
	p_worker text,
	p_segment_ids bigint[] default null,
	p_limit integer default 10,
	p_trigger text default 'schedule',
	p_lease_seconds integer default null,
	p_only_due boolean default null,
	p_request_id uuid default null)
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
	v_row record;
begin
	if p_request_id is not null and exists (select 1 from sync_segments_logs l where l.claim_request_id = p_request_id) then
		-- A retry of a claim that already happened: the same runs, as they stand now. A run that has
		-- lost its lease since (taken over, finished) comes back as busy, like any held segment.
		return query
		select c.segment_id,
			case when c.lease_run_id = l.run_id then 'claimed' else 'busy' end,
			case when c.lease_run_id = l.run_id then l.run_id end,
			c.segment_name, c.status, c.lease_owner, c.lease_expires_at,
			case when c.lease_run_id = l.run_id then c.checkpoint end,
			case when c.lease_run_id = l.run_id then l.resumed_from end,
			case when c.lease_run_id = l.run_id then c.pass_id end,
			c.enrichment_mode, c.full_refresh_days, c.options, c.last_success_at
		from sync_segments_logs l
		join sync_segments_control c on c.segment_id = l.segment_id
		where l.claim_request_id = p_request_id
		order by c.segment_id;
		return;
	end if;
	for v_row in select * from sync_internal.claim_segments(p_worker, p_segment_ids, p_limit, p_trigger, p_lease_seconds, p_only_due) loop
		if p_request_id is not null and v_row.outcome = 'claimed' then
			update sync_segments_logs l set claim_request_id = p_request_id where l.run_id = v_row.run_id;
		end if;
		segment_id := v_row.segment_id; outcome := v_row.outcome; run_id := v_row.run_id;
		segment_name := v_row.segment_name; status := v_row.status; lease_owner := v_row.lease_owner;
		lease_expires_at := v_row.lease_expires_at; checkpoint := v_row.checkpoint; resumed_from := v_row.resumed_from;
		pass_id := v_row.pass_id; enrichment_mode := v_row.enrichment_mode; full_refresh_days := v_row.full_refresh_days;
		options := v_row.options; last_success_at := v_row.last_success_at;
		return next;
	end loop;
end;
$$;

revoke execute on function public.sync_claim(text, bigint[], integer, text, integer, boolean, uuid) from public, anon, authenticated;
grant execute on function public.sync_claim(text, bigint[], integer, text, integer, boolean, uuid) to service_role;

notify pgrst, 'reload schema';
