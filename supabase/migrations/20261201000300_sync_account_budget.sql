-- SprintHub Segment Sync: one rate budget per SprintHub account, shared by every process that syncs
-- into this database (n8n main, queue-mode workers, the command line).
--
--   select * from sync_account_budgets;
--   select sync_set_account_rate('https://sprinthub-api-master.sprinthub.app|acme',
--                                'https://sprinthub-api-master.sprinthub.app', 'acme', 540);
--   update sync_account_budgets set requests_per_minute = 540 where instance = 'acme';
--
-- A token bucket per account, refilled at the account's current rate. Processes take a few tokens at a
-- time (a lease) with sync_budget_take; a token is spent when it is granted, so a process that dies
-- holding tokens wastes them and never makes the account go faster. Throttle signals
-- (sync_budget_throttle) pause every process and halve the rate; successes reported with later takes
-- bring it back, never above the configured rate.

create table if not exists public.sync_account_budgets (
	-- lower(base URL)|lower(instance), as the engine builds it. Never the token.
	account_key text primary key,
	base_url text not null,
	instance text not null,
	-- The account's requests per minute. Null: not set; each run then uses its own rate (default 80).
	requests_per_minute numeric check (requests_per_minute is null or requests_per_minute > 0),
	-- The adaptive rate after throttles; climbs back to the configured rate while calls succeed.
	current_per_minute numeric check (current_per_minute is null or current_per_minute > 0),
	tokens numeric not null default 0,
	refilled_at timestamptz not null default clock_timestamp(),
	paused_until timestamptz,
	-- Start of the throttle episode (cleared by the first success after it); bounds patience.
	episode_started_at timestamptz,
	consecutive_throttles integer not null default 0,
	-- Bumped at every slow-down: tokens granted before it belong to the wave that was already answered.
	epoch bigint not null default 0,
	granted_total bigint not null default 0,
	throttled_total bigint not null default 0,
	rate_decreases_total bigint not null default 0,
	updated_at timestamptz not null default clock_timestamp()
);

comment on table public.sync_account_budgets is
	'One SprintHub rate budget per account (base URL + instance), shared by every process syncing into this database. Set requests_per_minute to change the account''s rate; runs may only go lower.';

alter table public.sync_account_budgets enable row level security;
revoke all on table public.sync_account_budgets from public, anon, authenticated;
grant select, insert, update, delete on table public.sync_account_budgets to service_role;

-- The account's row, locked, created on first use; its tokens refilled up to now.
create or replace function sync_internal.budget_row(p_account_key text, p_base_url text, p_instance text, p_rate numeric)
returns public.sync_account_budgets
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
	v_row sync_account_budgets;
	v_now timestamptz := clock_timestamp();
	v_configured numeric;
	v_capacity numeric;
	v_from timestamptz;
begin
	if p_account_key is null or length(p_account_key) = 0 or length(p_account_key) > 600 then
		raise sqlstate '22023' using message = 'sync budget: the account key is missing or too long', hint = 'SYNC_BAD_ACCOUNT';
	end if;
	if p_rate is null or p_rate <= 0 then
		raise sqlstate '22023' using message = format('sync budget: requests per minute must be positive, got %s', p_rate), hint = 'SYNC_BAD_RATE';
	end if;
	insert into sync_account_budgets (account_key, base_url, instance, tokens, refilled_at)
	values (p_account_key, coalesce(p_base_url, ''), coalesce(p_instance, ''), 1, v_now)
	on conflict (account_key) do nothing;
	select * into v_row from sync_account_budgets b where b.account_key = p_account_key for update;

	v_configured := coalesce(v_row.requests_per_minute, p_rate);
	-- The configured rate may have been lowered (SQL, node, CLI) since the last throttle.
	v_row.current_per_minute := least(coalesce(v_row.current_per_minute, v_configured), v_configured);
	v_capacity := sync_internal.budget_capacity(v_configured);
	v_from := greatest(v_row.refilled_at, coalesce(v_row.paused_until, v_row.refilled_at));
	if v_now > v_from then
		v_row.tokens := least(v_capacity, v_row.tokens + extract(epoch from (v_now - v_from)) * v_row.current_per_minute / 60);
		v_row.refilled_at := v_now;
	end if;
	-- An episode nobody heard of for ten minutes after its pause (e.g. yesterday's) is over.
	if v_row.episode_started_at is not null
		and v_now > greatest(coalesce(v_row.paused_until, v_row.episode_started_at), v_row.episode_started_at) + interval '10 minutes' then
		v_row.episode_started_at := null;
		v_row.consecutive_throttles := 0;
	end if;
	return v_row;
end;
$$;

-- How many tokens may pile up (and the most one take gets): a quarter second of calls, at least 2 (a
-- probe and one more). Small, so that servers counting over short windows see no burst.
create or replace function sync_internal.budget_capacity(p_configured numeric)
returns numeric
language sql immutable
as $$ select greatest(2, ceil(p_configured / 240)) $$;

create or replace function sync_internal.budget_answer(p_row public.sync_account_budgets, p_granted integer, p_rate numeric)
returns jsonb
language plpgsql stable
set search_path = public, pg_temp
as $$
declare
	v_now timestamptz := clock_timestamp();
	v_wait numeric := 0;
begin
	if p_granted = 0 then
		if p_row.paused_until is not null and p_row.paused_until > v_now then
			v_wait := extract(epoch from (p_row.paused_until - v_now)) * 1000;
		end if;
		-- Time until one whole token has accrued at the current rate.
		v_wait := v_wait + greatest(0, 1 - p_row.tokens) * 60000 / p_row.current_per_minute;
	end if;
	return jsonb_build_object(
		'granted', p_granted,
		'wait_ms', ceil(v_wait),
		'epoch', p_row.epoch,
		'account_per_minute', p_row.requests_per_minute,
		'configured_per_minute', coalesce(p_row.requests_per_minute, p_rate),
		'current_per_minute', p_row.current_per_minute,
		'paused_until', p_row.paused_until,
		'episode_started_at', p_row.episode_started_at,
		'now', v_now);
end;
$$;

-- Takes up to p_want tokens (a lease) for one call each. p_rate: the caller's own rate, used only
-- while the account has none set. p_successes: calls that succeeded since the caller's last take,
-- all with tokens of epoch p_epoch; they end a throttle episode and raise the rate back.
create or replace function public.sync_budget_take(
	p_account_key text,
	p_base_url text,
	p_instance text,
	p_want integer,
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
begin
	if p_want is null or p_want < 0 or p_want > 100000 then
		raise sqlstate '22023' using message = format('sync budget: cannot take %s tokens', p_want), hint = 'SYNC_BAD_WANT';
	end if;
	v_row := sync_internal.budget_row(p_account_key, p_base_url, p_instance, p_rate);
	v_configured := coalesce(v_row.requests_per_minute, p_rate);
	if coalesce(p_successes, 0) > 0 and p_epoch is not distinct from v_row.epoch then
		v_row.episode_started_at := null;
		v_row.consecutive_throttles := 0;
		v_row.current_per_minute := least(v_configured, v_row.current_per_minute + p_successes * v_configured / 40);
	end if;
	if v_row.paused_until is null or v_row.paused_until <= v_now then
		v_granted := least(p_want, floor(v_row.tokens))::integer;
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
	return sync_internal.budget_answer(v_row, v_granted, p_rate);
end;
$$;

-- A call was throttled (401 "too many requests" or 429). When its token is of the current epoch this is
-- the first report of the wave: the rate halves (not below a sixteenth of the configured rate), the
-- epoch moves on and everyone pauses for Retry-After, else for an exponential backoff with jitter.
-- Later reports of the same wave only extend the pause to their Retry-After.
create or replace function public.sync_budget_throttle(
	p_account_key text,
	p_base_url text,
	p_instance text,
	p_epoch bigint,
	p_retry_after_ms integer default null,
	p_rate numeric default 80,
	p_backoff_base_ms integer default 5000,
	p_backoff_max_ms integer default 120000)
returns jsonb
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
	v_row sync_account_budgets;
	v_configured numeric;
	v_now timestamptz := clock_timestamp();
	v_pause_ms numeric;
	v_until timestamptz;
begin
	v_row := sync_internal.budget_row(p_account_key, p_base_url, p_instance, p_rate);
	v_configured := coalesce(v_row.requests_per_minute, p_rate);
	v_row.throttled_total := v_row.throttled_total + 1;
	if v_row.episode_started_at is null then
		v_row.episode_started_at := v_now;
		v_row.consecutive_throttles := 0;
	end if;
	if p_epoch is not distinct from v_row.epoch then
		v_row.epoch := v_row.epoch + 1;
		v_row.rate_decreases_total := v_row.rate_decreases_total + 1;
		v_row.consecutive_throttles := v_row.consecutive_throttles + 1;
		v_row.current_per_minute := greatest(least(v_configured, greatest(1, v_configured / 16)), v_row.current_per_minute * 0.5);
		if p_retry_after_ms is not null and p_retry_after_ms >= 0 then
			v_pause_ms := p_retry_after_ms;
		else
			v_pause_ms := least(p_backoff_max_ms, p_backoff_base_ms * power(2, v_row.consecutive_throttles - 1));
			v_pause_ms := v_pause_ms / 2 + random() * v_pause_ms / 2;
		end if;
	elsif p_retry_after_ms is not null and p_retry_after_ms >= 0 then
		v_pause_ms := p_retry_after_ms;
	end if;
	if v_pause_ms is not null then
		v_until := v_now + make_interval(secs => v_pause_ms / 1000);
		if v_row.paused_until is null or v_until > v_row.paused_until then
			v_row.paused_until := v_until;
			-- After the pause one probe may go at once, then spacing at the lowered rate.
			v_row.tokens := 1;
			v_row.refilled_at := v_until;
		end if;
	end if;
	update sync_account_budgets b set
		current_per_minute = v_row.current_per_minute,
		tokens = v_row.tokens,
		refilled_at = v_row.refilled_at,
		paused_until = v_row.paused_until,
		episode_started_at = v_row.episode_started_at,
		consecutive_throttles = v_row.consecutive_throttles,
		epoch = v_row.epoch,
		throttled_total = v_row.throttled_total,
		rate_decreases_total = v_row.rate_decreases_total,
		updated_at = v_now
	where b.account_key = p_account_key;
	return sync_internal.budget_answer(v_row, 0, p_rate);
end;
$$;

-- Sets (or, with null, unsets) the account's requests per minute; returns the account's row.
create or replace function public.sync_set_account_rate(p_account_key text, p_base_url text, p_instance text, p_requests_per_minute numeric)
returns public.sync_account_budgets
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
	v_row sync_account_budgets;
begin
	if p_requests_per_minute is not null and not (p_requests_per_minute > 0 and p_requests_per_minute <= 1000000) then
		raise sqlstate '22023' using
			message = format('requests per minute must be from 1 to 1000000, got %s', p_requests_per_minute),
			hint = 'SYNC_BAD_RATE';
	end if;
	insert into sync_account_budgets as b (account_key, base_url, instance, requests_per_minute, tokens)
	values (p_account_key, coalesce(p_base_url, ''), coalesce(p_instance, ''), p_requests_per_minute, 1)
	on conflict (account_key) do update set
		requests_per_minute = excluded.requests_per_minute,
		-- At full speed it follows the new rate; after throttles it stays lower and climbs back.
		current_per_minute = case
			when b.current_per_minute is null or b.current_per_minute >= coalesce(b.requests_per_minute, b.current_per_minute) then excluded.requests_per_minute
			else least(b.current_per_minute, excluded.requests_per_minute) end,
		updated_at = clock_timestamp()
	returning * into v_row;
	return v_row;
end;
$$;

revoke execute on function sync_internal.budget_row(text, text, text, numeric) from public, anon, authenticated;
revoke execute on function sync_internal.budget_capacity(numeric) from public, anon, authenticated;
revoke execute on function sync_internal.budget_answer(public.sync_account_budgets, integer, numeric) from public, anon, authenticated;
grant execute on function sync_internal.budget_row(text, text, text, numeric) to service_role;
grant execute on function sync_internal.budget_capacity(numeric) to service_role;
grant execute on function sync_internal.budget_answer(public.sync_account_budgets, integer, numeric) to service_role;
revoke execute on function public.sync_budget_take(text, text, text, integer, numeric, integer, bigint) from public, anon, authenticated;
revoke execute on function public.sync_budget_throttle(text, text, text, bigint, integer, numeric, integer, integer) from public, anon, authenticated;
revoke execute on function public.sync_set_account_rate(text, text, text, numeric) from public, anon, authenticated;
grant execute on function public.sync_budget_take(text, text, text, integer, numeric, integer, bigint) to service_role;
grant execute on function public.sync_budget_throttle(text, text, text, bigint, integer, numeric, integer, integer) to service_role;
grant execute on function public.sync_set_account_rate(text, text, text, numeric) to service_role;
