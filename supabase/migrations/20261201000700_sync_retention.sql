-- SprintHub Segment Sync: retention. Run logs, resolved quarantine rows (with their payloads) and
-- left memberships used to grow forever. sync_prune() deletes what is older than the project's
-- settings (sync_settings: run logs 90 days, resolved quarantine 30 days, left memberships kept
-- unless a number of days is set, since analysts use that history). Sync Due calls it at most once a
-- day; SQL (`select sync_prune();`) and `sprinthub-sync prune` call it whenever asked.
-- It never touches a running run's rows: log rows still 'running', the log row a segment's lease or
-- checkpoint points at, each segment's latest log row, quarantine rows last touched by a running run,
-- and the memberships of a segment being synced.
-- Re-runnable.

-- One row: the project's settings. Change them with plain SQL, e.g.
--   update sync_settings set log_retention_days = 365, left_membership_retention_days = 730;
-- NULL keeps those rows forever.
create table if not exists public.sync_settings (
	id boolean primary key default true,
	log_retention_days integer default 90,
	quarantine_retention_days integer default 30,
	left_membership_retention_days integer,
	last_pruned_at timestamptz,
	last_prune jsonb
);
do $$
begin
	if not exists (select 1 from pg_constraint where conname = 'sync_settings_single_row_check') then
		alter table public.sync_settings add constraint sync_settings_single_row_check check (id);
	end if;
	if not exists (select 1 from pg_constraint where conname = 'sync_settings_retention_days_check') then
		alter table public.sync_settings add constraint sync_settings_retention_days_check
			check (coalesce(log_retention_days, 1) >= 1 and coalesce(quarantine_retention_days, 1) >= 1
				and coalesce(left_membership_retention_days, 1) >= 1);
	end if;
end $$;
insert into public.sync_settings (id) values (true) on conflict (id) do nothing;

alter table public.sync_settings enable row level security;
revoke all on table public.sync_settings from public, anon, authenticated;
grant select, insert, update, delete on table public.sync_settings to service_role;

-- Deletes what the settings say is old enough. p_only_if_due: do nothing when the last prune was
-- less than a day ago, or another session is pruning right now (what Sync Due asks). Returns what it
-- did: {"pruned": true, "logs": n, "quarantine": n, "memberships": n, "pruned_at": …, "settings": …}
-- or {"pruned": false, "reason": …, "last_pruned_at": …}.
create or replace function public.sync_prune(p_only_if_due boolean default false)
returns jsonb
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
	v_settings sync_settings;
	v_logs bigint := 0;
	v_quarantine bigint := 0;
	v_memberships bigint := 0;
	v_result jsonb;
begin
	insert into sync_settings (id) values (true) on conflict (id) do nothing;
	if p_only_if_due then
		select * into v_settings from sync_settings where id for update skip locked;
		if not found then
			return jsonb_build_object('pruned', false, 'reason', 'another session is pruning');
		end if;
		if v_settings.last_pruned_at > now() - interval '1 day' then
			return jsonb_build_object('pruned', false, 'reason', 'pruned less than a day ago', 'last_pruned_at', v_settings.last_pruned_at);
		end if;
	else
		select * into v_settings from sync_settings where id for update;
	end if;

	if v_settings.log_retention_days is not null then
		delete from sync_segments_logs l
		where l.status <> 'running'
			and coalesce(l.finished_at, l.execution_time) < now() - make_interval(days => v_settings.log_retention_days)
			-- Each segment keeps its latest run (the health view and `status` show it).
			and exists (select 1 from sync_segments_logs n where n.segment_id = l.segment_id and n.execution_time > l.execution_time)
			-- A lease or an unfinished pass still refers to it.
			and not exists (select 1 from sync_segments_control c where l.run_id in (c.lease_run_id, c.checkpoint_run_id));
		get diagnostics v_logs = row_count;
	end if;

	if v_settings.quarantine_retention_days is not null then
		delete from sync_quarantine q
		where q.resolved_at < now() - make_interval(days => v_settings.quarantine_retention_days)
			and not exists (select 1 from sync_segments_logs l where l.run_id = q.last_run_id and l.status = 'running');
		get diagnostics v_quarantine = row_count;
	end if;

	if v_settings.left_membership_retention_days is not null then
		delete from sync_segment_leads m
		where m.left_at < now() - make_interval(days => v_settings.left_membership_retention_days)
			-- A run of the segment may be marking leavers and rejoiners right now.
			and not exists (select 1 from sync_segments_control c
				where c.segment_id = m.segment_id and c.lease_run_id is not null and c.lease_expires_at >= now());
		get diagnostics v_memberships = row_count;
	end if;

	v_result := jsonb_build_object('pruned', true, 'logs', v_logs, 'quarantine', v_quarantine, 'memberships', v_memberships,
		'pruned_at', now(),
		'settings', jsonb_build_object('log_retention_days', v_settings.log_retention_days,
			'quarantine_retention_days', v_settings.quarantine_retention_days,
			'left_membership_retention_days', v_settings.left_membership_retention_days));
	update sync_settings set last_pruned_at = now(), last_prune = v_result - 'pruned' where id;
	return v_result;
end;
$$;

do $$
declare
	f text;
begin
	foreach f in array array['sync_prune(boolean)'] loop
		execute format('revoke execute on function public.%s from public, anon, authenticated', f);
		execute format('grant execute on function public.%s to service_role', f);
	end loop;
end $$;

notify pgrst, 'reload schema';
