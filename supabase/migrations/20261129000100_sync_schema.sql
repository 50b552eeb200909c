-- SprintHub Segment Sync: tables.
-- Re-runnable: every statement can be applied again on a database that already has it.
-- Access: row level security on every table with no policies, so the anon and authenticated
-- API keys see nothing; only service_role (BYPASSRLS) is granted, explicitly, because new
-- Supabase projects no longer grant tables in public to the API roles automatically.

-- One row per SprintHub lead. Typed columns are derived from `raw` (the whole record as
-- SprintHub sent it) by sync_apply_page; a value that does not fit its column is NULL there and
-- described in cast_problems.
create table if not exists public.leads (
	id bigint primary key,
	firstname text,
	lastname text,
	fullname text,
	email text,
	phone text,
	mobile text,
	whatsapp text,
	address text,
	city text,
	state text,
	country text,
	zipcode text,
	timezone text,
	company text,
	stage text,
	preferred_locale text,
	photo_url text,
	points integer,
	owner_id bigint,
	owner_name text,
	archived boolean,
	created_by text,
	created_by_name text,
	created_by_type text,
	updated_by text,
	updated_by_name text,
	create_date timestamptz,
	updated_date timestamptz,
	last_active timestamptz,
	raw jsonb not null,
	-- What the engine compares to decide whether a detail call is needed (e.g. updatedDate).
	change_marker text,
	-- Last time a full detail record was applied; NULL when only list records were seen.
	enriched_at timestamptz,
	-- Last time the row's content changed.
	written_at timestamptz not null default now(),
	first_written_at timestamptz not null default now(),
	-- {"<sprinthub field>": {"value": <as sent>, "expected": "<type>"}}; NULL when every value fitted.
	cast_problems jsonb
);
-- A lead's row is ~2 KB (raw is ~1.6 KB of it), just above the size at which PostgreSQL starts
-- shrinking a row (toast_tuple_target, 2032 bytes by default): pglz then ran on nearly every row
-- sync_apply_page wrote (~7% of the CPU of a page of new leads), the result was kept for only ~1 row
-- in 10, and later comparisons of raw had to decompress those. With the target at a full page, rows
-- up to 8160 bytes stay inline and uncompressed; larger ones are still compressed or moved out of
-- line. Same data, same queries: only the storage differs.
alter table public.leads set (toast_tuple_target = 8160);

create index if not exists leads_email_idx on public.leads (lower(email));
create index if not exists leads_cast_problems_idx on public.leads (id) where cast_problems is not null;

-- Which leads are in which segment. A lead can be in many segments.
create table if not exists public.sync_segment_leads (
	segment_id bigint not null,
	lead_id bigint not null,
	-- Start of the current membership (reset when a lead that had left comes back).
	joined_at timestamptz not null default now(),
	first_seen_at timestamptz not null default now(),
	last_seen_at timestamptz not null default now(),
	last_seen_run uuid,
	-- The pass (one walk through the whole segment, possibly over several resumed runs).
	last_seen_pass uuid,
	left_at timestamptz,
	left_run uuid,
	primary key (segment_id, lead_id)
);
create index if not exists sync_segment_leads_lead_idx on public.sync_segment_leads (lead_id);
create index if not exists sync_segment_leads_current_idx on public.sync_segment_leads (segment_id) where left_at is null;

-- One row per segment (name kept from the original system).
create table if not exists public.sync_segments_control (
	segment_id bigint primary key,
	segment_name text,
	status text not null default 'active',
	-- A 5-field cron expression ('0 */6 * * *') or an interval ('6 hours').
	schedule text not null default '1 day',
	-- Time zone the cron expression is read in.
	schedule_timezone text not null default 'UTC',
	next_execution timestamptz default now(),
	last_execution timestamptz,
	last_status text,
	last_success_at timestamptz,
	consecutive_failures integer not null default 0,
	max_consecutive_failures integer not null default 5,
	-- The lease: which worker holds the segment, for which run, until when.
	lease_owner text,
	lease_run_id uuid,
	lease_expires_at timestamptz,
	lease_seconds integer not null default 300,
	-- Lease length the current run asked for (heartbeats and pages renew by it).
	lease_run_seconds integer,
	-- Where an unfinished pass stopped (opaque to the database, written by the engine).
	checkpoint jsonb,
	checkpoint_run_id uuid,
	checkpoint_at timestamptz,
	pass_id uuid,
	pass_started_at timestamptz,
	run_requested_at timestamptz,
	-- Per-segment options.
	enrichment_mode text not null default 'changed',
	full_refresh_days integer default 30,
	max_leave_share numeric not null default 0.5,
	leave_guard_min_leads integer not null default 10,
	options jsonb not null default '{}'::jsonb,
	created_at timestamptz not null default now(),
	updated_at timestamptz not null default now()
);
do $$
begin
	if not exists (select 1 from pg_constraint where conname = 'sync_segments_control_status_check') then
		alter table public.sync_segments_control add constraint sync_segments_control_status_check
			check (status in ('active', 'paused', 'error'));
	end if;
	if not exists (select 1 from pg_constraint where conname = 'sync_segments_control_enrichment_mode_check') then
		alter table public.sync_segments_control add constraint sync_segments_control_enrichment_mode_check
			check (enrichment_mode in ('changed', 'all', 'none'));
	end if;
	if not exists (select 1 from pg_constraint where conname = 'sync_segments_control_options_check') then
		alter table public.sync_segments_control add constraint sync_segments_control_options_check
			check (max_leave_share >= 0 and max_leave_share <= 1 and leave_guard_min_leads >= 0
				and max_consecutive_failures >= 1 and lease_seconds between 1 and 86400
				and (full_refresh_days is null or full_refresh_days >= 1) and jsonb_typeof(options) = 'object');
	end if;
end $$;
create index if not exists sync_segments_control_due_idx on public.sync_segments_control (next_execution) where status = 'active';

-- One row per run (name and the first columns kept from the original system).
create table if not exists public.sync_segments_logs (
	id bigserial primary key,
	segment_id bigint not null,
	execution_time timestamptz not null default now(),
	status text not null default 'running',
	message text,
	stats jsonb not null default '{}'::jsonb,
	duration_seconds numeric,
	success_rate numeric,
	run_id uuid not null default gen_random_uuid(),
	trigger text not null default 'schedule',
	worker text,
	finished_at timestamptz,
	error_class text,
	resumed_from uuid
);
create unique index if not exists sync_segments_logs_run_id_key on public.sync_segments_logs (run_id);
create index if not exists sync_segments_logs_segment_time_idx on public.sync_segments_logs (segment_id, execution_time desc);
create index if not exists sync_segments_logs_time_idx on public.sync_segments_logs (execution_time desc);
do $$
begin
	if not exists (select 1 from pg_constraint where conname = 'sync_segments_logs_status_check') then
		alter table public.sync_segments_logs add constraint sync_segments_logs_status_check
			check (status in ('running', 'success', 'partial', 'rate_limited', 'failed', 'cancelled', 'skipped'));
	end if;
	if not exists (select 1 from pg_constraint where conname = 'sync_segments_logs_trigger_check') then
		alter table public.sync_segments_logs add constraint sync_segments_logs_trigger_check
			check (trigger in ('schedule', 'manual', 'cli'));
	end if;
	if not exists (select 1 from pg_constraint where conname = 'sync_segments_logs_error_class_check') then
		alter table public.sync_segments_logs add constraint sync_segments_logs_error_class_check
			check (error_class is null or error_class in ('configuration', 'throttled', 'transient', 'data', 'system'));
	end if;
end $$;

-- Pages already applied by a run, so a retried page does not count twice.
create table if not exists public.sync_run_pages (
	run_id uuid not null,
	page_key text not null,
	applied_at timestamptz not null default now(),
	result jsonb,
	primary key (run_id, page_key)
);

-- Leads that could not be fetched or written; later runs retry them until they succeed.
create table if not exists public.sync_quarantine (
	id bigserial primary key,
	segment_id bigint not null,
	lead_id bigint not null,
	stage text not null,
	error text,
	payload jsonb,
	attempts integer not null default 1,
	first_failed_at timestamptz not null default now(),
	last_failed_at timestamptz not null default now(),
	last_run_id uuid,
	resolved_at timestamptz,
	resolution text
);
create unique index if not exists sync_quarantine_open_key on public.sync_quarantine (segment_id, lead_id) where resolved_at is null;
create index if not exists sync_quarantine_lead_idx on public.sync_quarantine (lead_id) where resolved_at is null;
do $$
begin
	if not exists (select 1 from pg_constraint where conname = 'sync_quarantine_stage_check') then
		alter table public.sync_quarantine add constraint sync_quarantine_stage_check check (stage in ('fetch', 'write'));
	end if;
end $$;

-- Access.
do $$
declare
	t text;
begin
	foreach t in array array['leads', 'sync_segment_leads', 'sync_segments_control', 'sync_segments_logs', 'sync_run_pages', 'sync_quarantine'] loop
		execute format('alter table public.%I enable row level security', t);
		execute format('revoke all on table public.%I from public, anon, authenticated', t);
		execute format('grant select, insert, update, delete on table public.%I to service_role', t);
	end loop;
end $$;
revoke all on sequence public.sync_segments_logs_id_seq, public.sync_quarantine_id_seq from public, anon, authenticated;
grant usage, select on sequence public.sync_segments_logs_id_seq, public.sync_quarantine_id_seq to service_role;

notify pgrst, 'reload schema';
