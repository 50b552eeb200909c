-- SprintHub Segment Sync: the shared budget hands out reservations instead of leases (issue 11).
--
-- sync_budget_take (20261201000300) grants only the tokens the bucket holds now: at 80 a minute that is
-- about one, and a take that grants nothing makes the process ask again, so a process called the
-- database 1.6–2.0 times per SprintHub call. sync_budget_reserve grants a schedule instead (virtual
-- scheduling, as GCRA): the tokens available now plus future slots spaced at the account's current rate,
-- up to a horizon, deducted from the bucket at once. The bucket may so go into a deficit, never deeper
-- than the horizon's worth of tokens; later takers get the slots after it. Each slot's time is no
-- earlier than the time its token accrues, so every process together stays within the bucket's capacity
-- plus the rate, and a process that dies holding slots only wastes them (the account goes slower for up
-- to the horizon, never faster).
--
-- sync_budget_take keeps working as before (a process of the previous version sees the deficit as an
-- empty bucket and waits), so old and new processes may share an account during an upgrade.

-- Reserves up to p_want slots within p_horizon_ms (100 ms to 60 s). Answers like sync_budget_take plus
-- slots_ms: each slot's time in ms after 'now' (ascending, the first ones 0). Granted nothing (paused,
-- or the horizon already reserved): wait_ms says when to ask again.
create or replace function public.sync_budget_reserve(
	p_account_key text,
	p_base_url text,
	p_instance text,
	p_want integer,
	p_horizon_ms integer default 5000,
	p_rate numeric default 80,
	p_successes integer default 0,
	p_epoch bigint default null)
returns jsonb
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
	v_row sync_account_budgets;
	v_configured numeric;
	v_granted integer := 0;
	v_now timestamptz := clock_timestamp();
	v_per_ms numeric;
	v_slots jsonb := '[]'::jsonb;
	v_at numeric;
	v_answer jsonb;
begin
	if p_want is null or p_want < 0 or p_want > 100000 then
		raise sqlstate '22023' using message = format('sync budget: cannot reserve %s tokens', p_want), hint = 'SYNC_BAD_WANT';
	end if;
	if p_horizon_ms is null or p_horizon_ms < 100 or p_horizon_ms > 60000 then
		raise sqlstate '22023' using message = format('sync budget: the reservation horizon must be from 100 to 60000 ms, got %s', p_horizon_ms), hint = 'SYNC_BAD_HORIZON';
	end if;
	v_row := sync_internal.budget_row(p_account_key, p_base_url, p_instance, p_rate);
	v_configured := coalesce(v_row.requests_per_minute, p_rate);
	if coalesce(p_successes, 0) > 0 and p_epoch is not distinct from v_row.epoch then
		v_row.episode_started_at := null;
		v_row.consecutive_throttles := 0;
		v_row.current_per_minute := least(v_configured, v_row.current_per_minute + p_successes * v_configured / 40);
	end if;
	v_per_ms := v_row.current_per_minute / 60000;
	if v_row.paused_until is null or v_row.paused_until <= v_now then
		-- Slot i (1-based) is due when the bucket has accrued its token: (i - tokens) / rate from now.
		while v_granted < p_want loop
			v_at := greatest(0, (v_granted + 1 - v_row.tokens) / v_per_ms);
			exit when v_at > p_horizon_ms;
			v_slots := v_slots || to_jsonb(ceil(v_at)::bigint);
			v_granted := v_granted + 1;
		end loop;
		v_row.tokens := v_row.tokens - v_granted;
	end if;
	update sync_account_budgets b set
		current_per_minute = v_row.current_per_minute,
		tokens = v_row.tokens,
		refilled_at = v_row.refilled_at,
		episode_started_at = v_row.episode_started_at,
		consecutive_throttles = v_row.consecutive_throttles,
		granted_total = b.granted_total + v_granted,
		updated_at = v_now
	where b.account_key = p_account_key;
	v_answer := sync_internal.budget_answer(v_row, v_granted, p_rate);
	if v_granted = 0 and (v_row.paused_until is null or v_row.paused_until <= v_now) then
		-- The horizon is reserved: ask again when the next slot falls within it.
		v_answer := jsonb_set(v_answer, '{wait_ms}', to_jsonb(ceil(greatest(0, (1 - v_row.tokens) / v_per_ms - p_horizon_ms))));
	end if;
	return v_answer || jsonb_build_object('slots_ms', v_slots);
end;
$$;

revoke execute on function public.sync_budget_reserve(text, text, text, integer, integer, numeric, integer, bigint) from public, anon, authenticated;
grant execute on function public.sync_budget_reserve(text, text, text, integer, integer, numeric, integer, bigint) to service_role;
