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

alter table public.sync_account_budgets add column if not exists reserved_until timestamptz;
comment on column public.sync_account_budgets.reserved_until is
	'When the last reserved slot (sync_budget_reserve) is due: a deficit never outlasts it, even after the rate was lowered.';

-- The bucket's deficit stands for reserved slots not yet due; all of them are due by reserved_until. At
-- a rate lowered since (SQL, node, CLI) the same deficit would take longer to repay than that, so it is
-- cut to what reaches reserved_until at the current rate: the next slot then follows the last reserved
-- one, never precedes it.
create or replace function sync_internal.budget_deficit_cut(p_row public.sync_account_budgets, p_now timestamptz)
returns numeric
language sql immutable
as $$
	select case when p_row.tokens >= 0 then p_row.tokens
		else greatest(p_row.tokens, -greatest(0, extract(epoch from (coalesce(p_row.reserved_until, p_now) - p_now))) * p_row.current_per_minute / 60) end
$$;
revoke execute on function sync_internal.budget_deficit_cut(public.sync_account_budgets, timestamptz) from public, anon, authenticated;
grant execute on function sync_internal.budget_deficit_cut(public.sync_account_budgets, timestamptz) to service_role;

-- Reserves up to p_want slots within p_horizon_ms (100 ms to 60 s). Answers like sync_budget_take plus
-- slots_ms: each slot's time in ms after 'now' (ascending, the first ones 0). Granted nothing (paused,
-- or the horizon already reserved by others): wait_ms says when to ask again.
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
	v_fit numeric;
	v_at_last numeric;
begin
	if p_want is null or p_want < 0 or p_want > 100000 then
		raise sqlstate '22023' using message = format('sync budget: cannot reserve %s tokens', p_want), hint = 'SYNC_BAD_WANT';
	end if;
	if p_horizon_ms is null or p_horizon_ms < 100 or p_horizon_ms > 60000 then
		raise sqlstate '22023' using message = format('sync budget: the reservation horizon must be from 100 to 60000 ms, got %s', p_horizon_ms), hint = 'SYNC_BAD_HORIZON';
	end if;
	v_row := sync_internal.budget_row(p_account_key, p_base_url, p_instance, p_rate);
	-- After the row lock: slots count from when this take holds the bucket, not from before it waited.
	v_now := clock_timestamp();
	v_configured := coalesce(v_row.requests_per_minute, p_rate);
	if coalesce(p_successes, 0) > 0 and p_epoch is not distinct from v_row.epoch then
		v_row.episode_started_at := null;
		v_row.consecutive_throttles := 0;
		v_row.current_per_minute := least(v_configured, v_row.current_per_minute + p_successes * v_configured / 40);
	end if;
	v_per_ms := v_row.current_per_minute / 60000;
	v_row.tokens := sync_internal.budget_deficit_cut(v_row, v_now);
	if v_row.paused_until is null or v_row.paused_until <= v_now then
		-- Slot i (1-based) is due when the bucket has accrued its token: (i - tokens) / rate from now.
		while v_granted < p_want loop
			v_at := greatest(0, (v_granted + 1 - v_row.tokens) / v_per_ms);
			exit when v_at > p_horizon_ms;
			v_slots := v_slots || to_jsonb(ceil(v_at)::bigint);
			v_at_last := v_at;
			v_granted := v_granted + 1;
		end loop;
		v_row.tokens := v_row.tokens - v_granted;
		if v_granted > 0 then
			v_row.reserved_until := greatest(coalesce(v_row.reserved_until, v_now), v_now + make_interval(secs => v_at_last / 1000));
		end if;
	end if;
	update sync_account_budgets b set
		current_per_minute = v_row.current_per_minute,
		tokens = v_row.tokens,
		refilled_at = v_row.refilled_at,
		reserved_until = v_row.reserved_until,
		episode_started_at = v_row.episode_started_at,
		consecutive_throttles = v_row.consecutive_throttles,
		granted_total = b.granted_total + v_granted,
		updated_at = v_now
	where b.account_key = p_account_key;
	v_answer := sync_internal.budget_answer(v_row, v_granted, p_rate);
	if v_granted = 0 and p_want > 0 and (v_row.paused_until is null or v_row.paused_until <= v_now) then
		-- The horizon is reserved: ask again when a few slots (up to a quarter of the horizon's) fit in
		-- it, rather than one at a time.
		v_fit := least(p_want, greatest(1, ceil(p_horizon_ms * v_per_ms / 4)));
		v_answer := jsonb_set(v_answer, '{wait_ms}', to_jsonb(ceil(greatest(0, (v_fit - v_row.tokens) / v_per_ms - p_horizon_ms))));
	end if;
	return v_answer || jsonb_build_object('slots_ms', v_slots);
end;
$$;

alter table public.sync_account_budgets add column if not exists released_total bigint not null default 0;
comment on column public.sync_account_budgets.released_total is
	'Reserved slots given back unspent (sync_budget_release): granted_total - released_total is what the processes kept.';

-- Gives back p_count reserved slots a process will not spend (its run went idle or ended), so the others
-- need not wait out its reservation. Only within the epoch they were granted in (a throttle since has
-- reset the bucket), and never above the bucket's capacity, so the burst bound holds.
create or replace function public.sync_budget_release(
	p_account_key text,
	p_base_url text,
	p_instance text,
	p_count integer,
	p_epoch bigint,
	p_rate numeric default 80)
returns jsonb
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
	v_row sync_account_budgets;
	v_before numeric;
	v_now timestamptz := clock_timestamp();
begin
	if p_count is null or p_count < 0 or p_count > 100000 then
		raise sqlstate '22023' using message = format('sync budget: cannot release %s slots', p_count), hint = 'SYNC_BAD_WANT';
	end if;
	v_row := sync_internal.budget_row(p_account_key, p_base_url, p_instance, p_rate);
	v_row.tokens := sync_internal.budget_deficit_cut(v_row, v_now);
	v_before := v_row.tokens;
	if p_epoch is not distinct from v_row.epoch and (v_row.paused_until is null or v_row.paused_until <= v_now) then
		v_row.tokens := least(sync_internal.budget_capacity(coalesce(v_row.requests_per_minute, p_rate)), v_row.tokens + p_count);
	end if;
	update sync_account_budgets b set
		tokens = v_row.tokens,
		refilled_at = v_row.refilled_at,
		released_total = b.released_total + greatest(0, ceil(v_row.tokens - v_before))::bigint,
		updated_at = v_now
	where b.account_key = p_account_key;
	return sync_internal.budget_answer(v_row, 0, p_rate) || jsonb_build_object('slots_ms', '[]'::jsonb);
end;
$$;

revoke execute on function public.sync_budget_release(text, text, text, integer, bigint, numeric) from public, anon, authenticated;
grant execute on function public.sync_budget_release(text, text, text, integer, bigint, numeric) to service_role;
revoke execute on function public.sync_budget_reserve(text, text, text, integer, integer, numeric, integer, bigint) from public, anon, authenticated;
grant execute on function public.sync_budget_reserve(text, text, text, integer, integer, numeric, integer, bigint) to service_role;
