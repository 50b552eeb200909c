import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import ws from 'ws';
import { StoreError, toStoreError, type PostgrestErrorLike } from './errors';
import type {
	AddSegmentOptions,
	ApplyPageOptions,
	ApplyPageResult,
	ClaimOptions,
	ClaimRow,
	FinishOptions,
	FinishResult,
	HourlyCalls,
	LeadMarker,
	PageLead,
	QuarantinedLead,
	QuarantineItem,
	ReportRun,
	RunLog,
	SegmentControl,
	SegmentHealth,
} from './types';
import { schemaNameProblem } from './schemaName';
import type { BudgetAccount, BudgetAnswer } from '../sprinthub/budgetStore';
import type { AccountBudgetRow, AlertStateChange, AlertStateInput, LeadUpsertResult, ListCapabilityRecord, ListCapabilityRow, PruneResult, UpsertLeadsOptions } from './types';

export interface ConnectOptions {
	/** Project URL (https://<ref>.supabase.co). */
	url: string;
	/** Service role key (legacy JWT or sb_secret_…). */
	serviceRoleKey: string;
	/** Schema holding the sync objects (default public; must be exposed in the Data API). */
	schema?: string;
	/** fetch used for every call (e.g. undici with timeouts). */
	fetch?: typeof fetch;
}

export interface SyncStoreOptions {
	/** Strings never to show in errors (the key). */
	secrets?: string[];
}

interface RpcResponse {
	data: unknown;
	error: PostgrestErrorLike | null;
	status: number;
}

/** Rows asked per request when reading a whole view. */
const READ_PAGE = 1000;

// The client is typed loosely: the schema name is chosen at run time.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyClient = SupabaseClient<any, any, any>;

/** Typed access to the sync state machine (supabase/migrations) through supabase-js. */
export class SyncStore {
	private readonly client: AnyClient;
	private readonly secrets: string[];

	constructor(client: AnyClient, options: SyncStoreOptions = {}) {
		this.client = client;
		this.secrets = options.secrets ?? [];
	}

	/** A store with its own supabase-js client, configured for servers on Node 20+. */
	static connect(options: ConnectOptions): SyncStore {
		// Checked here too, for callers of the engine other than the node and the CLI (which check first).
		const schemaProblem = options.schema === undefined ? null : schemaNameProblem(options.schema);
		if (schemaProblem) throw new StoreError('invalid_argument', `connect: ${schemaProblem}`, { operation: 'connect' });
		const client = createClient(options.url, options.serviceRoleKey, {
			auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
			realtime: { transport: ws as unknown as never },
			db: { schema: options.schema ?? 'public' },
			...(options.fetch ? { global: { fetch: options.fetch } } : {}),
		});
		return new SyncStore(client, { secrets: [options.serviceRoleKey] });
	}

	/** Takes due or named segments; segments held elsewhere come back as `busy`, never waited for. */
	async claim(options: ClaimOptions): Promise<ClaimRow[]> {
		return this.rpc<ClaimRow[]>('sync_claim', {
			p_worker: options.worker,
			p_segment_ids: options.segmentIds ?? null,
			p_limit: options.limit ?? 10,
			p_trigger: options.trigger ?? 'schedule',
			p_lease_seconds: options.leaseSeconds ?? null,
			p_only_due: options.onlyDue ?? null,
			// Sent only when given, so an older schema without the parameter still answers plain claims.
			...(options.requestId ? { p_request_id: options.requestId } : {}),
		});
	}

	/** Extends the lease; throws StoreError kind `lease_lost` when another worker took the segment. Returns the new expiry. */
	async heartbeat(runId: string, leaseSeconds?: number): Promise<string> {
		return this.rpc<string>('sync_heartbeat', { p_run_id: runId, p_lease_seconds: leaseSeconds ?? null });
	}

	/** Upserts a page of leads, their membership, the run counters and the checkpoint in one transaction. */
	async applyPage(runId: string, leads: PageLead[], options: ApplyPageOptions = {}): Promise<ApplyPageResult> {
		return this.rpc<ApplyPageResult>('sync_apply_page', {
			p_run_id: runId,
			p_leads: leads,
			p_checkpoint: options.checkpoint ?? null,
			p_page_key: options.pageKey === undefined || options.pageKey === null ? null : String(options.pageKey),
			p_stats: options.stats ?? null,
			// Sent only when given, like p_request_id: a caller without it works on a schema without it.
			...(typeof options.walk === 'number' ? { p_walk: options.walk } : {}),
		});
	}

	/** What the database knows about these leads, by id (unknown ids are absent). */
	async markers(leadIds: number[]): Promise<Map<number, LeadMarker>> {
		if (leadIds.length === 0) return new Map();
		const rows = await this.rpc<LeadMarker[]>('sync_markers', { p_lead_ids: leadIds });
		return new Map(rows.map((row) => [Number(row.lead_id), row]));
	}

	/** Records leads the run could not fetch or write; returns how many were recorded. */
	async quarantine(runId: string, items: QuarantineItem[]): Promise<number> {
		if (items.length === 0) return 0;
		return this.rpc<number>('sync_quarantine', { p_run_id: runId, p_items: items });
	}

	/** Open quarantine entries of a segment, oldest attempt first. */
	async quarantined(segmentId: number, limit = 1000): Promise<QuarantinedLead[]> {
		return this.rpc<QuarantinedLead[]>('sync_quarantined', { p_segment_id: segmentId, p_limit: limit });
	}

	/** Closes quarantine entries (all of the segment when leadIds is omitted); returns how many. */
	async releaseQuarantine(segmentId: number, leadIds?: number[] | null, resolution?: string): Promise<number> {
		return this.rpc<number>('sync_release_quarantine', {
			p_segment_id: segmentId,
			p_lead_ids: leadIds ?? null,
			p_resolution: resolution ?? 'released',
		});
	}

	/** Ends the lease a worker whose process is gone still holds on a segment; true when it did. */
	async releaseDeadLease(segmentId: number, deadOwner: string): Promise<boolean> {
		return this.rpc<boolean>('sync_release_dead_lease', { p_segment_id: segmentId, p_dead_owner: deadOwner });
	}

	/** Current members of the run's segment not seen in its pass so far: who would be marked as left. */
	async leaveCandidates(runId: string): Promise<number> {
		return this.rpc<number>('sync_leave_candidates', { p_run_id: runId });
	}

	/** The ids of those members (up to `limit`), ascending. */
	async leaveCandidateIds(runId: string, limit: number): Promise<number[]> {
		const rows = await this.rpc<Array<number | string>>('sync_leave_candidate_ids', { p_run_id: runId, p_limit: limit });
		return rows.map(Number);
	}

	/**
	 * Leavers SprintHub answered 404 for: stamps leads.deleted_at and closes their quarantine; the
	 * finish marks them left with the other leavers. Returns how many were newly stamped.
	 */
	async stampDeletedLeavers(runId: string, leadIds: number[]): Promise<number> {
		if (leadIds.length === 0) return 0;
		return this.rpc<number>('sync_stamp_deleted_leavers', { p_run_id: runId, p_lead_ids: leadIds });
	}

	/**
	 * Leads SprintHub answered 404 for: stamps leads.deleted_at, ends their membership in the run's
	 * segment and closes their quarantine entries; returns how many memberships ended.
	 */
	async markDeleted(runId: string, leadIds: number[]): Promise<number> {
		if (leadIds.length === 0) return 0;
		return this.rpc<number>('sync_mark_deleted', { p_run_id: runId, p_lead_ids: leadIds });
	}

	/** Closes the run, sweeps leavers after a complete pass, schedules the next run, releases the lease. */
	async finish(runId: string, options: FinishOptions): Promise<FinishResult> {
		return this.rpc<FinishResult>('sync_finish', {
			p_run_id: runId,
			p_status: options.status,
			p_message: options.message ?? null,
			p_stats: options.stats ?? null,
			p_complete: options.complete ?? false,
			p_error_class: options.errorClass ?? null,
			p_success_rate: options.successRate ?? null,
			p_retry_after_seconds: options.retryAfterSeconds ?? null,
			...(typeof options.walk === 'number' ? { p_walk: options.walk } : {}),
		});
	}

	/** Adds a segment or updates the given settings of an existing one. */
	async addSegment(segmentId: number, options: AddSegmentOptions = {}): Promise<SegmentControl> {
		const startAt = options.startAt instanceof Date ? options.startAt.toISOString() : (options.startAt ?? null);
		return this.rpc<SegmentControl>('sync_add_segment', {
			p_segment_id: segmentId,
			p_name: options.name ?? null,
			p_schedule: options.schedule ?? null,
			p_timezone: options.timezone ?? null,
			p_enrichment_mode: options.enrichmentMode ?? null,
			p_full_refresh_days: options.fullRefreshDays ?? null,
			p_max_leave_share: options.maxLeaveShare ?? null,
			p_max_consecutive_failures: options.maxConsecutiveFailures ?? null,
			p_options: options.options ?? null,
			p_start_at: startAt,
		});
	}

	async pauseSegment(segmentId: number): Promise<SegmentControl> {
		return this.rpc<SegmentControl>('sync_pause_segment', { p_segment_id: segmentId });
	}

	async resumeSegment(segmentId: number): Promise<SegmentControl> {
		return this.rpc<SegmentControl>('sync_resume_segment', { p_segment_id: segmentId });
	}

	async rescheduleSegment(segmentId: number, schedule: string, timezone?: string): Promise<SegmentControl> {
		return this.rpc<SegmentControl>('sync_reschedule_segment', {
			p_segment_id: segmentId,
			p_schedule: schedule,
			p_timezone: timezone ?? null,
		});
	}

	/** Makes the segment due at the next trigger. */
	async runSegmentNow(segmentId: number): Promise<SegmentControl> {
		return this.rpc<SegmentControl>('sync_run_segment_now', { p_segment_id: segmentId });
	}

	/** When a schedule (cron or interval) next fires; also validates it. Returns an ISO timestamp. */
	async nextExecution(schedule: string, after?: Date, timezone?: string): Promise<string> {
		return this.rpc<string>('sync_next_execution', {
			p_schedule: schedule,
			p_after: (after ?? new Date()).toISOString(),
			p_timezone: timezone ?? 'UTC',
		});
	}

	/**
	 * Deletes run logs, resolved quarantine rows and left memberships older than the project's
	 * retention settings (sync_prune); never a running run's rows. onlyIfDue: nothing when the last
	 * prune was less than a day ago (what Sync Due asks).
	 */
	async prune(options: { onlyIfDue?: boolean } = {}): Promise<PruneResult> {
		return this.rpc<PruneResult>('sync_prune', { p_only_if_due: options.onlyIfDue ?? false });
	}

	/** Control rows, all or the given segments, by segment id. */
	async listControl(segmentIds?: number[]): Promise<SegmentControl[]> {
		let query = this.client.from('sync_segments_control').select('*').order('segment_id');
		if (segmentIds) query = query.in('segment_id', segmentIds);
		return this.read<SegmentControl[]>('listControl', query);
	}

	/** Per-segment health (view sync_segments_health). */
	async health(segmentIds?: number[]): Promise<SegmentHealth[]> {
		// leavers_pending is a computed column of the view (a function of its row), named to be read.
		let query = this.client.from('sync_segments_health').select('*,leavers_pending').order('segment_id');
		if (segmentIds) query = query.in('segment_id', segmentIds);
		return this.read<SegmentHealth[]>('health', query);
	}

	/** Latest runs, newest first. */
	async recentRuns(options: { segmentId?: number; limit?: number } = {}): Promise<RunLog[]> {
		let query = this.client.from('sync_segments_logs').select('*');
		if (options.segmentId !== undefined) query = query.eq('segment_id', options.segmentId);
		return this.read<RunLog[]>('recentRuns', query.order('execution_time', { ascending: false }).limit(options.limit ?? 20));
	}

	/** Runs since a time (view sync_report_runs), by segment then time; read in pages, so no row limit of the API cuts it short. */
	async reportRuns(options: { since: Date; segmentIds?: number[] }): Promise<ReportRun[]> {
		return this.readAll<ReportRun>('reportRuns', () => {
			let query = this.client.from('sync_report_runs').select('*').gte('execution_time', options.since.toISOString());
			if (options.segmentIds) query = query.in('segment_id', options.segmentIds);
			return query.order('segment_id').order('execution_time').order('run_id');
		});
	}

	/** SprintHub calls of the account per UTC hour since a time (view sync_report_calls_hourly), oldest first. */
	async callsPerHour(since: Date): Promise<HourlyCalls[]> {
		return this.readAll<HourlyCalls>('callsPerHour', () =>
			this.client.from('sync_report_calls_hourly').select('*').gte('hour', since.toISOString()).order('hour'),
		);
	}

	/**
	 * Upserts SprintHub lead records outside a sync run (same casting rules as a sync); one result per
	 * record, in input order; bad records are reported, never fatal.
	 */
	async upsertLeads(records: unknown[], options: UpsertLeadsOptions = {}): Promise<LeadUpsertResult[]> {
		if (records.length === 0) return [];
		return this.rpc<LeadUpsertResult[]>('sync_upsert_leads', { p_records: records, p_complete: options.complete ?? false });
	}

	/**
	 * Upserts records as given, guarded (sync_upsert_leads_guarded): a lead marked deleted is not
	 * brought back and a stored lead with a newer change marker is not overwritten (status skipped).
	 */
	async upsertLeadsGuarded(records: unknown[], options: UpsertLeadsOptions = {}): Promise<LeadUpsertResult[]> {
		if (records.length === 0) return [];
		return this.rpc<LeadUpsertResult[]>('sync_upsert_leads_guarded', { p_records: records, p_complete: options.complete ?? false });
	}

	/** Marks known leads deleted outside a sync run (SprintHub answered 404); returns the ids newly marked. */
	async markLeadsDeleted(leadIds: number[]): Promise<number[]> {
		if (leadIds.length === 0) return [];
		const ids = await this.rpc<Array<number | string>>('sync_mark_leads_deleted', { p_lead_ids: leadIds });
		return ids.map(Number);
	}

	/** Stored leads by id (unknown ids are absent). */
	async leads(leadIds: number[]): Promise<Array<Record<string, unknown> & { id: number }>> {
		if (leadIds.length === 0) return [];
		return this.read<Array<Record<string, unknown> & { id: number }>>('leads', this.client.from('leads').select('*').in('id', leadIds).order('id'));
	}

	/** Records the alert kinds of each segment for a channel; returns how each one moved since the last check. */
	async recordAlerts(states: AlertStateInput[], channel = 'default'): Promise<AlertStateChange[]> {
		if (states.length === 0) return [];
		return this.rpc<AlertStateChange[]>('sync_record_alerts', { p_states: states, p_channel: channel });
	}

	/** Reserves up to `want` slots of the account's shared SprintHub budget within a horizon (sync_budget_reserve). */
	async reserveBudget(
		account: BudgetAccount,
		request: { want: number; horizonMs: number; requestsPerMinute: number; successes: number; epoch: number | null },
		signal?: AbortSignal,
	): Promise<BudgetAnswer> {
		const raw = await this.rpc<RawBudgetAnswer>(
			'sync_budget_reserve',
			{
				p_account_key: account.key,
				p_base_url: account.baseUrl,
				p_instance: account.instance,
				p_want: request.want,
				p_horizon_ms: Math.round(request.horizonMs),
				p_rate: request.requestsPerMinute,
				p_successes: request.successes,
				p_epoch: request.epoch,
			},
			signal,
		);
		return budgetAnswer(raw);
	}

	/** Gives back reserved slots of the account's shared budget that this process will not spend (sync_budget_release). */
	async releaseBudget(account: BudgetAccount, request: { count: number; epoch: number | null; requestsPerMinute: number }, signal?: AbortSignal): Promise<BudgetAnswer> {
		const args = { p_account_key: account.key, p_base_url: account.baseUrl, p_instance: account.instance, p_count: request.count, p_epoch: request.epoch, p_rate: request.requestsPerMinute };
		return budgetAnswer(await this.rpc<RawBudgetAnswer>('sync_budget_release', args, signal));
	}

	/** Reports a throttled SprintHub call to the account's shared budget (sync_budget_throttle). */
	async reportBudgetThrottle(
		account: BudgetAccount,
		request: { epoch: number | null; retryAfterMs?: number; requestsPerMinute: number; backoffBaseMs: number; backoffMaxMs: number },
		signal?: AbortSignal,
	): Promise<BudgetAnswer> {
		const raw = await this.rpc<RawBudgetAnswer>(
			'sync_budget_throttle',
			{
				p_account_key: account.key,
				p_base_url: account.baseUrl,
				p_instance: account.instance,
				p_epoch: request.epoch,
				p_retry_after_ms: request.retryAfterMs ?? null,
				p_rate: request.requestsPerMinute,
				p_backoff_base_ms: Math.round(request.backoffBaseMs),
				p_backoff_max_ms: Math.round(request.backoffMaxMs),
			},
			signal,
		);
		return budgetAnswer(raw);
	}

	/** Sets the account's requests per minute (null unsets it: each run then uses its own rate). */
	async setAccountRate(account: BudgetAccount, requestsPerMinute: number | null): Promise<AccountBudgetRow> {
		return this.rpc<AccountBudgetRow>('sync_set_account_rate', {
			p_account_key: account.key,
			p_base_url: account.baseUrl,
			p_instance: account.instance,
			p_requests_per_minute: requestsPerMinute,
		});
	}

	/** The accounts' shared budgets (all, or one). */
	async accountBudgets(accountKey?: string): Promise<AccountBudgetRow[]> {
		let query = this.client.from('sync_account_budgets').select('*').order('account_key');
		if (accountKey) query = query.eq('account_key', accountKey);
		return this.read<AccountBudgetRow[]>('sync_account_budgets', query);
	}

	/** What is known of an account's segment lists (enrichment auto), or null when never checked. */
	async listCapability(accountKey: string): Promise<ListCapabilityRow | null> {
		const rows = await this.read<ListCapabilityRow[]>('sync_list_capabilities', this.client.from('sync_list_capabilities').select('*').eq('account_key', accountKey));
		return rows[0] ?? null;
	}

	/** Records what a run learned about an account's segment lists. */
	async recordListCapability(account: BudgetAccount, learned: ListCapabilityRecord): Promise<ListCapabilityRow> {
		return this.rpc<ListCapabilityRow>('sync_record_list_capability', {
			p_account_key: account.key,
			p_base_url: account.baseUrl,
			p_instance: account.instance,
			p_list_complete: learned.listComplete,
			p_asked_with: learned.askedWith,
			p_fields: learned.fields,
			p_fields_asked: learned.fieldsAsked,
			p_missing_fields: learned.missingFields,
			p_differing_fields: learned.differingFields,
			p_sample_size: learned.sampleSize,
			p_verified: learned.verified ?? false,
			p_note: learned.note ?? null,
		});
	}

	/** Field names of the most recently enriched stored records (custom fields included). */
	async knownLeadFields(limit = 200): Promise<string[]> {
		return (await this.rpc<string[] | null>('sync_known_lead_fields', { p_limit: limit })) ?? [];
	}

	private async rpc<T>(fn: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<T> {
		let response: RpcResponse;
		try {
			const call = this.client.rpc(fn, args);
			response = (await (signal ? call.abortSignal(signal) : call)) as RpcResponse;
		} catch (error) {
			throw toStoreError(fn, { message: (error as Error).message }, 0, this.secrets);
		}
		if (response.error) throw toStoreError(fn, response.error, response.status, this.secrets);
		return response.data as T;
	}

	/** Every row of a query, page by page: a Supabase project answers at most `max_rows` (1000 by default) rows per request. */
	private async readAll<T>(
		operation: string,
		build: () => { range(from: number, to: number): PromiseLike<{ data: unknown; error: PostgrestErrorLike | null; status: number }> },
	): Promise<T[]> {
		const rows: T[] = [];
		for (;;) {
			const page = await this.read<T[]>(operation, build().range(rows.length, rows.length + READ_PAGE - 1));
			rows.push(...page);
			// A short page is the last one; a server with a lower row limit also gives short pages, so ask again until empty.
			if (page.length === 0) return rows;
		}
	}

	private async read<T>(operation: string, query: PromiseLike<{ data: unknown; error: PostgrestErrorLike | null; status: number }>): Promise<T> {
		let response: RpcResponse;
		try {
			response = await query;
		} catch (error) {
			throw toStoreError(operation, { message: (error as Error).message }, 0, this.secrets);
		}
		if (response.error) throw toStoreError(operation, response.error, response.status, this.secrets);
		return response.data as T;
	}
}

interface RawBudgetAnswer {
	granted: number;
	wait_ms: number;
	epoch: number | string;
	account_per_minute: number | string | null;
	configured_per_minute: number | string;
	current_per_minute: number | string;
	paused_until: string | null;
	episode_started_at: string | null;
	now: string;
	slots_ms?: Array<number | string>;
}

function budgetAnswer(raw: RawBudgetAnswer): BudgetAnswer {
	const time = (value: string | null) => (value === null ? null : Date.parse(value));
	return {
		granted: Number(raw.granted),
		waitMs: Number(raw.wait_ms),
		epoch: Number(raw.epoch),
		accountPerMinute: raw.account_per_minute === null ? null : Number(raw.account_per_minute),
		configuredPerMinute: Number(raw.configured_per_minute),
		currentPerMinute: Number(raw.current_per_minute),
		pausedUntil: time(raw.paused_until),
		episodeStartedAt: time(raw.episode_started_at),
		now: Date.parse(raw.now),
		slotsMs: (raw.slots_ms ?? []).map(Number),
	};
}

export { StoreError };
