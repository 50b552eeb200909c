-- What Sync Health → Check remembers between checks: the alert state of each segment, per channel
-- (a channel is one alerting workflow with its own thresholds), so that a check emits only
-- changes (a segment starts failing, recovers, turns slow, …) and channels stay quiet otherwise.
-- Re-runnable.

create table if not exists public.sync_alert_state (
	channel text not null default 'default',
	segment_id bigint not null,
	-- The alert kinds active at the last check, sorted (e.g. {failing,slow}); empty when healthy.
	alerts text[] not null default '{}',
	-- When the alerts last changed.
	changed_at timestamptz not null default now(),
	checked_at timestamptz not null default now(),
	primary key (channel, segment_id)
);

alter table public.sync_alert_state enable row level security;
revoke all on table public.sync_alert_state from public, anon, authenticated;
grant select, insert, update, delete on table public.sync_alert_state to service_role;

-- Records the alert kinds found now and returns, for every segment given, the previous and the
-- current kinds and whether they changed. A segment seen for the first time counts as having had
-- no alerts. Concurrent checks of one channel are serialised per segment (row lock), so one change
-- is reported once.
-- p_states: [{"segment_id": 101, "alerts": ["failing", "slow"]}, …]
-- Returns [{segment_id, previous, current, changed, previous_changed_at}] in segment order.
create or replace function public.sync_record_alerts(p_states jsonb, p_channel text default 'default')
returns jsonb
language plpgsql volatile
security invoker
set search_path = public, pg_temp
as $$
declare
	v_item jsonb;
	v_segment bigint;
	v_current text[];
	v_previous text[];
	v_previous_changed timestamptz;
	v_out jsonb := '[]'::jsonb;
	v_channel text := coalesce(nullif(trim(p_channel), ''), 'default');
begin
	if jsonb_typeof(p_states) is distinct from 'array' then
		raise exception using errcode = '22023',
			message = 'p_states must be a JSON array of {"segment_id": 123, "alerts": ["failing", …]}';
	end if;
	for v_item in
		select e from jsonb_array_elements(p_states) as x(e) order by sync_to_bigint(x.e -> 'segment_id')
	loop
		v_segment := sync_to_bigint(v_item -> 'segment_id');
		if v_segment is null or v_segment <= 0 then
			raise exception using errcode = '22023', message = format('invalid segment_id in p_states: %s', v_item -> 'segment_id');
		end if;
		select coalesce(array_agg(distinct a order by a), '{}')
		into v_current
		from jsonb_array_elements_text(coalesce(v_item -> 'alerts', '[]'::jsonb)) as a;

		insert into sync_alert_state (channel, segment_id, alerts, changed_at, checked_at)
		values (v_channel, v_segment, '{}', now(), now())
		on conflict (channel, segment_id) do nothing;
		select s.alerts, s.changed_at into v_previous, v_previous_changed
		from sync_alert_state s
		where s.channel = v_channel and s.segment_id = v_segment
		for update;

		update sync_alert_state s
		set alerts = v_current,
			checked_at = now(),
			changed_at = case when s.alerts is distinct from v_current then now() else s.changed_at end
		where s.channel = v_channel and s.segment_id = v_segment;

		v_out := v_out || jsonb_build_object(
			'segment_id', v_segment,
			'previous', to_jsonb(v_previous),
			'current', to_jsonb(v_current),
			'changed', v_previous is distinct from v_current,
			'previous_changed_at', v_previous_changed);
	end loop;
	return v_out;
end;
$$;

revoke execute on function public.sync_record_alerts(jsonb, text) from public, anon, authenticated;
grant execute on function public.sync_record_alerts(jsonb, text) to service_role;

notify pgrst, 'reload schema';
