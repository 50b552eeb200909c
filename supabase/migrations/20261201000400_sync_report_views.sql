-- SprintHub Segment Sync: views for the sync health report and for BI tools (Metabase, Grafana,
-- Supabase). Re-runnable. Read-only views over sync_segments_logs; security_invoker, so they see
-- what the caller may see (service_role only, like the tables).
--
--   select * from sync_report_daily where day >= current_date - 30 order by segment_id, day;
--   select * from sync_report_calls_hourly where hour >= now() - interval '2 days' order by hour;

-- A counter of `stats` as a number; anything but a JSON number counts as 0, so a hand-edited row cannot
-- break a chart. A plain CASE rather than sync_to_numeric: that one catches cast errors, which costs a
-- subtransaction per value (about 1.4 s for 6,000 runs × 10 counters instead of a few ms). No SET
-- search_path, so PostgreSQL inlines it into the views; it names no table or function of a schema.
create or replace function sync_internal.stat(p_stats jsonb, p_key text)
returns numeric
language sql immutable parallel safe
as $$
	select case when jsonb_typeof(p_stats -> p_key) = 'number' then (p_stats ->> p_key)::numeric else 0 end;
$$;
revoke all on function sync_internal.stat(jsonb, text) from public, anon, authenticated;
grant execute on function sync_internal.stat(jsonb, text) to service_role;

-- One row per finished or running run, with the counters of `stats` as typed columns.
create or replace view public.sync_report_runs with (security_invoker = true) as
select
	l.segment_id,
	l.run_id,
	l.execution_time,
	l.finished_at,
	l.status,
	l.trigger,
	l.error_class,
	l.duration_seconds,
	l.status in ('success', 'partial') as succeeded,
	sync_internal.stat(l.stats, 'leads_seen')::bigint as leads_seen,
	sync_internal.stat(l.stats, 'inserted')::bigint as inserted,
	sync_internal.stat(l.stats, 'updated')::bigint as updated,
	sync_internal.stat(l.stats, 'left')::bigint as left_segment,
	sync_internal.stat(l.stats, 'failed')::bigint as quarantined,
	sync_internal.stat(l.stats, 'detail_calls')::bigint as detail_calls,
	sync_internal.stat(l.stats, 'requests')::bigint as requests,
	sync_internal.stat(l.stats, 'throttled')::bigint as throttled,
	round(sync_internal.stat(l.stats, 'backoff_ms') / 1000.0, 1) as throttled_seconds
from public.sync_segments_logs l
-- Skipped runs did nothing (paused, or held by another worker): they are not runs to chart.
where l.status <> 'skipped';

-- Per segment and UTC day: how many runs, how many succeeded, how long they took, what they moved.
create or replace view public.sync_report_daily with (security_invoker = true) as
select
	r.segment_id,
	(r.execution_time at time zone 'UTC')::date as day,
	count(*) filter (where r.status <> 'running') as runs,
	count(*) filter (where r.succeeded) as succeeded,
	count(*) filter (where r.status = 'failed') as failed,
	count(*) filter (where r.status = 'rate_limited') as rate_limited,
	round(100.0 * count(*) filter (where r.succeeded) / nullif(count(*) filter (where r.status <> 'running'), 0), 1) as success_rate,
	round(avg(r.duration_seconds) filter (where r.status <> 'running'), 1) as avg_duration_seconds,
	max(r.duration_seconds) as max_duration_seconds,
	max(r.leads_seen) as leads_seen,
	sum(r.inserted) as inserted,
	sum(r.updated) as updated,
	sum(r.left_segment) as left_segment,
	sum(r.quarantined) as quarantined,
	sum(r.detail_calls) as detail_calls,
	sum(r.requests) as requests,
	sum(r.throttled) as throttled,
	sum(r.throttled_seconds) as throttled_seconds
from public.sync_report_runs r
group by r.segment_id, (r.execution_time at time zone 'UTC')::date;

-- SprintHub calls per UTC hour, account-wide (every segment shares the account's rate limit). A run's
-- requests are spread over the hours it lasted in proportion to the time spent in each, so a 4-hour
-- first sync shows as 4 hours near the budget, not one hour far above it. A running run counts up to now.
create or replace view public.sync_report_calls_hourly with (security_invoker = true) as
with spans as (
	select
		r.segment_id,
		r.requests,
		r.throttled,
		r.execution_time as started,
		greatest(
			case
				when r.status = 'running' then now()
				else coalesce(r.finished_at, r.execution_time + make_interval(secs => coalesce(r.duration_seconds, 0)::double precision))
			end,
			r.execution_time) as ended
	from public.sync_report_runs r
)
select
	h.hour,
	round(sum(s.requests * h.share)) as requests,
	round(sum(s.throttled * h.share)) as throttled,
	count(distinct s.segment_id) as segments
from spans s
cross join lateral (
	select
		g.hour,
		case
			when s.ended = s.started then 1.0
			else extract(epoch from least(s.ended, g.hour + interval '1 hour') - greatest(s.started, g.hour))
				/ extract(epoch from s.ended - s.started)
		end as share
	from generate_series(date_trunc('hour', s.started, 'UTC'), date_trunc('hour', s.ended, 'UTC'), interval '1 hour') as g(hour)
) h
group by h.hour;

do $$
declare
	v text;
begin
	foreach v in array array['sync_report_runs', 'sync_report_daily', 'sync_report_calls_hourly'] loop
		execute format('revoke all on table public.%I from public, anon, authenticated', v);
		execute format('grant select on table public.%I to service_role', v);
	end loop;
end $$;

notify pgrst, 'reload schema';
