/** Shapes of the sync state machine's SQL functions (supabase/migrations), as PostgREST returns them. */

/** ISO-8601 timestamp as PostgREST serialises timestamptz. */
export type Timestamp = string;

export type SegmentStatus = 'active' | 'paused' | 'error';
export type RunTrigger = 'schedule' | 'manual' | 'cli';
export type RunStatus = 'running' | 'success' | 'partial' | 'rate_limited' | 'failed' | 'cancelled' | 'skipped';
export type FinishStatus = Exclude<RunStatus, 'running'>;
export type ErrorClass = 'configuration' | 'throttled' | 'transient' | 'data' | 'system';
export type EnrichmentMode = 'auto' | 'changed' | 'all' | 'none';
export type ClaimOutcome = 'claimed' | 'busy' | 'paused' | 'error' | 'not_due' | 'unknown';
export type QuarantineStage = 'fetch' | 'write';
export type SegmentHealthState = 'ok' | 'running' | 'never_run' | 'failing' | 'overdue' | 'paused' | 'error';

/** Where an unfinished pass stopped; opaque to the database. */
export type Checkpoint = Record<string, unknown>;

/** A SprintHub lead record as the API returned it (loose types). */
export type SprintHubRecord = Record<string, unknown>;

export interface ClaimOptions {
	/** Names this worker in leases and logs (e.g. `host:pid`). */
	worker: string;
	/** Named segments; omitted: the due ones. */
	segmentIds?: number[];
	/** Most due segments to take (default 10); ignored for named segments. */
	limit?: number;
	trigger?: RunTrigger;
	/** Lease length (1..86400 s); default: the segment's lease_seconds (300). */
	leaseSeconds?: number;
	/** Named segments only when due (default: false for named, true for due). */
	onlyDue?: boolean;
	/** Makes the claim idempotent: a retry with the same id gets the runs the first attempt claimed. */
	requestId?: string;
}

export interface ClaimRow {
	segment_id: number;
	outcome: ClaimOutcome;
	/** Set when outcome is `claimed`. */
	run_id: string | null;
	segment_name: string | null;
	status: SegmentStatus | null;
	/** Holder of the lease (for `claimed`: this worker; for `busy`: the other one). */
	lease_owner: string | null;
	lease_expires_at: Timestamp | null;
	/** For `claimed`: where to resume; null starts a new pass from the first page. */
	checkpoint: Checkpoint | null;
	/** The run whose checkpoint is resumed. */
	resumed_from: string | null;
	pass_id: string | null;
	enrichment_mode: EnrichmentMode | null;
	full_refresh_days: number | null;
	options: Record<string, unknown> | null;
	last_success_at: Timestamp | null;
}

/** One lead of a page. Without `record` it only records that the lead is in the segment. */
export interface PageLead {
	/** Lead id; may be omitted when `record.id` is there. */
	id?: number | string;
	record?: SprintHubRecord | null;
	/** Change marker (e.g. the list's updatedDate, or a hash); omitted: `record.updatedDate`. */
	marker?: string | null;
	/** True when `record` is a full detail record (replaces what is stored); false merges a list record. */
	enriched?: boolean;
}

/** Counters the engine keeps; passed as increments since the last report. */
export interface EngineStats {
	requests?: number;
	throttled?: number;
	retries?: number;
	backoff_ms?: number;
	detail_calls?: number;
	[key: string]: unknown;
}

export interface ApplyPageOptions {
	checkpoint?: Checkpoint | null;
	/** Identifies the page within the run (e.g. its number) so a retried call counts once. */
	pageKey?: string | number | null;
	/** The walk of the pass the page belongs to (members remember the last walk that saw them). */
	walk?: number | null;
	stats?: EngineStats | null;
}

export interface RejectedLead {
	/** Position in the array sent. */
	index: number;
	id: unknown;
	reason: string;
}

export interface ApplyPageResult {
	segment_id: number;
	run_id: string;
	/** Distinct valid lead ids in the page (membership recorded). */
	seen: number;
	inserted: number;
	updated: number;
	unchanged: number;
	/** Leads new to the segment. */
	joined: number;
	rejected: RejectedLead[];
	/** The page key was already applied by this run: counters were not added again. */
	repeated: boolean;
	lease_expires_at: Timestamp;
}

export interface LeadMarker {
	lead_id: number;
	change_marker: string | null;
	enriched_at: Timestamp | null;
	written_at: Timestamp;
}

export interface QuarantineItem {
	lead_id: number;
	stage: QuarantineStage;
	error?: string | null;
	payload?: unknown;
}

export interface QuarantinedLead {
	lead_id: number;
	stage: QuarantineStage;
	error: string | null;
	attempts: number;
	first_failed_at: Timestamp;
	last_failed_at: Timestamp;
	payload: unknown;
}

export interface FinishOptions {
	status: FinishStatus;
	message?: string | null;
	stats?: EngineStats | null;
	/** The pass over the whole segment ended with this run: sweep leavers, clear the checkpoint. */
	complete?: boolean;
	errorClass?: ErrorClass | null;
	/** Percent 0..100; default computed from the run's counters. */
	successRate?: number | null;
	/** Due again after this many seconds (overrides the schedule). */
	retryAfterSeconds?: number | null;
	/** The walk of the pass that saw the whole segment: members it missed are leavers pending confirmation. */
	walk?: number | null;
}

/** The run's counters in its log row: what the database counted plus the engine's own (EngineStats). */
export interface RunStats extends EngineStats {
	pages?: number;
	leads_seen?: number;
	inserted?: number;
	updated?: number;
	unchanged?: number;
	joined?: number;
	left?: number;
	left_blocked?: number;
	/** Leads quarantined by this run. */
	failed?: number;
	/** Page elements without a usable id. */
	rejected?: number;
}

export interface FinishResult {
	run_id: string;
	segment_id: number;
	/** May differ from the status asked for: `success` becomes `partial` when the leave guard trips. */
	status: FinishStatus;
	message: string | null;
	segment_status: SegmentStatus;
	consecutive_failures: number;
	next_execution: Timestamp;
	left: number;
	left_blocked: number;
	success_rate: number | null;
	duration_seconds: number;
	stats: RunStats;
	/** Members an earlier walk of the pass saw and the final walk missed: the next run marks them if it misses them too. */
	leavers_pending?: number;
}

export interface SegmentControl {
	segment_id: number;
	segment_name: string | null;
	status: SegmentStatus;
	schedule: string;
	schedule_timezone: string;
	next_execution: Timestamp | null;
	last_execution: Timestamp | null;
	last_status: RunStatus | null;
	last_success_at: Timestamp | null;
	consecutive_failures: number;
	max_consecutive_failures: number;
	lease_owner: string | null;
	lease_run_id: string | null;
	lease_expires_at: Timestamp | null;
	lease_seconds: number;
	lease_run_seconds: number | null;
	checkpoint: Checkpoint | null;
	checkpoint_run_id: string | null;
	checkpoint_at: Timestamp | null;
	pass_id: string | null;
	pass_started_at: Timestamp | null;
	run_requested_at: Timestamp | null;
	enrichment_mode: EnrichmentMode;
	full_refresh_days: number | null;
	max_leave_share: number;
	leave_guard_min_leads: number;
	options: Record<string, unknown>;
	created_at: Timestamp;
	updated_at: Timestamp;
}

export interface AddSegmentOptions {
	name?: string | null;
	/** 5-field cron expression ('0 6 * * *') or interval ('6 hours'). */
	schedule?: string | null;
	/** Time zone of the cron expression (default UTC). */
	timezone?: string | null;
	enrichmentMode?: EnrichmentMode | null;
	fullRefreshDays?: number | null;
	maxLeaveShare?: number | null;
	maxConsecutiveFailures?: number | null;
	/** Merged into the stored options. */
	options?: Record<string, unknown> | null;
	/** First run (default now). */
	startAt?: Date | string | null;
}

/** A row of the sync_segments_health view: the control row's schedule and lease, plus run history. */
export interface SegmentHealth
	extends Pick<
		SegmentControl,
		| 'segment_id'
		| 'segment_name'
		| 'status'
		| 'schedule'
		| 'next_execution'
		| 'last_execution'
		| 'last_status'
		| 'last_success_at'
		| 'consecutive_failures'
		| 'max_consecutive_failures'
		| 'lease_owner'
		| 'lease_expires_at'
	> {
	running: boolean;
	has_checkpoint: boolean;
	last_message: string | null;
	last_error_class: ErrorClass | null;
	last_finished_at: Timestamp | null;
	last_duration_seconds: number | null;
	recent_runs: number;
	/** Percent of the last 20 finished runs that were success or partial. */
	recent_success_rate: number | null;
	typical_duration_seconds: number | null;
	seconds_since_success: number | null;
	members: number;
	quarantined: number;
	health: SegmentHealthState;
	/** Leavers pending confirmation after the last finished run. */
	leavers_pending: number;
}

export interface RunLog {
	id: number;
	segment_id: number;
	execution_time: Timestamp;
	status: RunStatus;
	message: string | null;
	stats: RunStats;
	duration_seconds: number | null;
	success_rate: number | null;
	run_id: string;
	trigger: RunTrigger;
	worker: string | null;
	finished_at: Timestamp | null;
	error_class: ErrorClass | null;
	resumed_from: string | null;
	/** Leavers pending confirmation when the run finished (null for runs closed before this was counted). */
	leavers_pending: number | null;
}

/** What sync_upsert_leads did with one input record (in input order). */
export type LeadUpsertStatus = 'skipped' | 'inserted' | 'updated' | 'unchanged' | 'rejected' | 'duplicate';

export interface LeadUpsertResult {
	/** Position in the array sent. */
	index: number;
	/** The lead id (as sent when the record was rejected). */
	id: unknown;
	status: LeadUpsertStatus;
	/** Why the record was rejected or superseded; null otherwise. */
	reason: string | null;
	/** Values that did not fit their typed column (kept in raw, NULL in the column). */
	cast_problems: Record<string, { value: unknown; expected: string }> | null;
}

export interface UpsertLeadsOptions {
	/** Each record carries every field: it replaces the stored record (else its fields are merged in). */
	complete?: boolean;
}

/** The alert kinds found for a segment now (Sync Health → Check). */
export interface AlertStateInput {
	segment_id: number;
	alerts: string[];
}

/** How a segment's alert kinds moved since the last check of a channel. */
export interface AlertStateChange {
	segment_id: number;
	previous: string[];
	current: string[];
	changed: boolean;
	/** When the previous state began. */
	previous_changed_at: Timestamp | null;
}

/** The retention settings (table sync_settings); null keeps those rows forever. */
export interface RetentionSettings {
	log_retention_days: number | null;
	quarantine_retention_days: number | null;
	left_membership_retention_days: number | null;
}

/** What sync_prune did: rows deleted, or why it did nothing (only when asked only if due). */
export type PruneResult =
	| { pruned: true; logs: number; quarantine: number; memberships: number; pruned_at: Timestamp; settings: RetentionSettings }
	| { pruned: false; reason: string; last_pruned_at?: Timestamp };

/** A row of sync_account_budgets: one SprintHub account's shared rate budget. */
export interface AccountBudgetRow {
	account_key: string;
	base_url: string;
	instance: string;
	/** The account's requests per minute; null when not set (each run uses its own rate). */
	requests_per_minute: number | null;
	/** The adaptive rate after throttles. */
	current_per_minute: number | null;
	tokens: number;
	refilled_at: string;
	paused_until: string | null;
	episode_started_at: string | null;
	consecutive_throttles: number;
	epoch: number;
	granted_total: number;
	throttled_total: number;
	rate_decreases_total: number;
	updated_at: string;
}

/** A row of the sync_report_runs view: one run (not skipped) with its counters as numbers. */
export interface ReportRun {
	segment_id: number;
	run_id: string;
	execution_time: Timestamp;
	finished_at: Timestamp | null;
	status: RunStatus;
	trigger: RunTrigger;
	error_class: ErrorClass | null;
	duration_seconds: number | null;
	succeeded: boolean;
	leads_seen: number;
	inserted: number;
	updated: number;
	left_segment: number;
	quarantined: number;
	detail_calls: number;
	requests: number;
	throttled: number;
	throttled_seconds: number;
}

/** A row of the sync_report_calls_hourly view: SprintHub calls of the whole account in one UTC hour. */
export interface HourlyCalls {
	hour: Timestamp;
	requests: number;
	throttled: number;
	segments: number;
}

/** Per SprintHub account: whether segment list pages carry full lead records (sync_list_capabilities). */
export interface ListCapabilityRow {
	account_key: string;
	base_url: string;
	instance: string;
	list_complete: boolean;
	asked_with: string;
	fields: string[];
	fields_asked: string[];
	missing_fields: string[];
	differing_fields: string[];
	sample_size: number;
	checked_at: Timestamp;
	verified_at: Timestamp | null;
	note: string | null;
}

/** What a run learned about an account's list records (sync_record_list_capability). */
export interface ListCapabilityRecord {
	listComplete: boolean;
	askedWith: string;
	fields: string[];
	fieldsAsked: string[];
	missingFields: string[];
	differingFields: string[];
	sampleSize: number;
	/** A re-verification of one lead (keeps checked_at when the verdict holds). */
	verified?: boolean;
	note?: string | null;
}
