/**
 * One segment's sync run: enumerate the membership with cheap projected pages, fetch details only
 * where something changed, write page by page (upsert, membership and checkpoint commit together in
 * the database), then close the run; the database marks leavers when the whole segment was seen.
 */
import { setMaxListeners } from 'node:events';
import { cancelledError, SyncError, toSyncError, type SyncErrorJson } from '../errors';
import type { ClaimRow, FinishResult, LeadMarker, PageLead, SyncStore } from '../store';
import { StoreError } from '../store';
import { batchesOf, DEFAULT_BATCH_LIMITS, type BatchLimits } from './batches';
import { mapWithConcurrency } from './concurrency';
import type { DetailShare } from './detailShare';
import { mergeLeadRecords } from './mergeLead';
import type {
	EnrichmentMode,
	LeadSource,
	RunStats,
	RunStatus,
	RunTrigger,
	SegmentSyncResult,
	SyncCheckpoint,
	SyncProgressEvent,
} from './ports';

export type SyncStoreForRuns = Pick<
	SyncStore,
	'claim' | 'heartbeat' | 'markers' | 'quarantined' | 'applyPage' | 'markDeleted' | 'quarantine' | 'finish' | 'leaveCandidates'
>;

export interface SegmentSyncOptions {
	segmentId: number;
	trigger: RunTrigger;
	/** Names this worker in leases and logs. */
	worker: string;
	/** Default: the segment's own setting, else 'changed'. */
	enrichment?: EnrichmentMode;
	/** Fetch every lead's details this run, whatever changed. */
	fullRefresh?: boolean;
	/** Everything but the writes (no claim, no log row): report what would change. */
	dryRun?: boolean;
	/** Leads asked per list page; the server may honour fewer (learned on page 0). Default 1000. */
	pageSize?: number;
	/** Detail calls in flight at once (all under the account's rate budget). Default 4. */
	detailConcurrency?: number;
	batch?: BatchLimits;
	/** Walks per run through a segment that keeps moving before giving up on a stable view. Default 3. */
	maxWalks?: number;
	/** Lease renewal period. Default 20 s (leases last 300 s unless the segment says otherwise). */
	heartbeatMs?: number;
	/** A run already claimed (Sync Due claims several at once); otherwise this segment is claimed. */
	claimed?: ClaimRow;
	signal?: AbortSignal;
	onProgress?: (event: SyncProgressEvent) => void;
	/** Client counters, read at the end (requests, throttled responses, retries, backoff). */
	clientStats?: () => { requests: number; throttled: number; retries: number; backoffMs: number };
}

/** Ids and change markers only: cheap pages, up to 1,000 leads each. */
export const MARKER_PROJECTION = '{total,leads{id,updatedDate}}';
/** What a list page can give when no detail call is made (enrichment "none"). */
export const LIST_PROJECTION =
	'{total,leads{id,firstname,lastname,fullname,email,phone,mobile,whatsapp,city,state,country,zipcode,company,points,owner,stage,archived,createDate,updatedDate,lastActive}}';

const MAX_ERRORS_KEPT = 20;
const DB_ATTEMPTS = 5;

export async function syncSegment(
	deps: { source: LeadSource; store: SyncStoreForRuns; detailShare?: DetailShare },
	options: SegmentSyncOptions,
): Promise<SegmentSyncResult> {
	const started = Date.now();
	const stats: RunStats = {
		pages: 0,
		walks: 0,
		requests: 0,
		throttled: 0,
		retries: 0,
		backoffMs: 0,
		leadsSeen: 0,
		detailCalls: 0,
		inserted: 0,
		updated: 0,
		unchanged: 0,
		joined: 0,
		deleted: 0,
		left: 0,
		failed: 0,
	};
	const errors: SyncErrorJson[] = [];
	const keepError = (error: SyncErrorJson) => {
		if (errors.length < MAX_ERRORS_KEPT) errors.push(error);
	};
	const emit = (event: SyncProgressEvent) => {
		try {
			options.onProgress?.(event);
		} catch {
			// A progress display must never break a sync.
		}
	};
	const { segmentId, store, source } = { segmentId: options.segmentId, store: deps.store, source: deps.source };
	const dryRun = options.dryRun ?? false;
	let runId: string | null = null;
	let segmentName: string | null = null;
	let resumed = false;

	const finishResult = (
		partial: Partial<SegmentSyncResult> & Pick<SegmentSyncResult, 'status' | 'message'>,
	): SegmentSyncResult => {
		const client = options.clientStats?.();
		if (client) {
			// Only the counters a run reports (the client has more, e.g. per-class failures).
			stats.requests = client.requests;
			stats.throttled = client.throttled;
			stats.retries = client.retries;
			stats.backoffMs = client.backoffMs;
		}
		const durationMs = Date.now() - started;
		emit({ type: 'finished', segmentId, status: partial.status, durationMs, message: partial.message });
		return {
			segmentId,
			segmentName,
			runId,
			dryRun,
			durationMs,
			stats,
			successRate: stats.leadsSeen > 0 ? round2(((stats.leadsSeen - stats.failed) / stats.leadsSeen) * 100) : null,
			left: 0,
			leftBlocked: 0,
			resumed,
			complete: false,
			nextExecution: null,
			errors,
			...partial,
		};
	};

	if (!Number.isSafeInteger(segmentId) || segmentId <= 0) {
		const error = new SyncError({
			errorClass: 'configuration',
			code: 'invalid_segment_id',
			message: `Segment id "${String(segmentId)}" is not a positive integer.`,
			hint: 'Use the numeric id of the segment in SprintHub, e.g. 123.',
		});
		return finishResult({ status: 'failed', message: error.message, error: error.toJSON() });
	}

	// A dry run claims nothing and writes nothing; it only reads what the database knows.
	let checkpoint: SyncCheckpoint | null = null;
	let enrichment: EnrichmentMode = options.enrichment ?? 'changed';
	let fullRefreshDays: number | null = null;
	if (!dryRun) {
		let claim: ClaimRow | undefined;
		try {
			claim = options.claimed ?? (await store.claim({ worker: options.worker, segmentIds: [segmentId], trigger: options.trigger }))[0];
		} catch (error) {
			const syncError = fromStoreError(error);
			return finishResult({ status: 'failed', message: syncError.message, error: syncError.toJSON() });
		}
		if (!claim || claim.outcome !== 'claimed' || !claim.run_id) {
			return refusedClaim(claim);
		}
		runId = claim.run_id;
		segmentName = claim.segment_name;
		checkpoint = readCheckpoint(claim.checkpoint);
		enrichment = options.enrichment ?? checkpoint?.enrichment ?? claim.enrichment_mode ?? 'changed';
		fullRefreshDays = claim.full_refresh_days;
		resumed = checkpoint !== null;
		emit({ type: 'claimed', segmentId, runId, resumedAtPage: checkpoint ? checkpoint.nextPage : null });
	}
	if (options.fullRefresh) enrichment = 'all';

	// The run stops when the caller cancels or when this worker loses its lease.
	const controller = new AbortController();
	// Every detail call in flight listens on this signal (budget wait + request): not a leak.
	setMaxListeners(0, controller.signal);
	const onAbort = () => controller.abort();
	options.signal?.addEventListener('abort', onAbort, { once: true });
	if (options.signal?.aborted) controller.abort();
	let leaseLost: SyncError | null = null;
	const heartbeat =
		runId === null
			? undefined
			: setInterval(() => {
					store.heartbeat(runId!).catch((error: unknown) => {
						if (error instanceof StoreError && error.kind === 'lease_lost') {
							leaseLost = new SyncError({ errorClass: 'system', code: 'lease_lost', message: error.message, hint: 'Another worker took the segment over; this run stopped without writing more.' });
							controller.abort();
						}
					});
				}, options.heartbeatMs ?? 20_000);
	heartbeat?.unref?.();
	const stopHeartbeat = () => {
		clearInterval(heartbeat);
		options.signal?.removeEventListener('abort', onAbort);
	};

	let pass: SyncCheckpoint = checkpoint ?? {
		walk: 1,
		nextPage: 0,
		limit: options.pageSize ?? 1000,
		seen: 0,
		total: -1,
		shifted: false,
		enrichment,
	};
	const projection = enrichment === 'none' ? LIST_PROJECTION : MARKER_PROJECTION;
	const refreshBefore = fullRefreshDays && fullRefreshDays > 0 ? Date.now() - fullRefreshDays * 86_400_000 : null;
	const maxWalks = options.maxWalks ?? 3;
	let batchLimits = options.batch ?? DEFAULT_BATCH_LIMITS;
	let complete = false;
	let incompleteReason = '';
	let quarantinedIds = new Set<number>();
	/** A walk made only to confirm who left (see below). */
	let confirmingWalk = false;
	/** Leads received by the current walk, and the most any walk of this run received. */
	let walkReceived = 0;
	let mostInOneWalk = 0;
	/** Valid leads whose page was fully handled, per walk (a page stopped half-way does not count). */
	let walkHandled = 0;
	let mostHandledInOneWalk = 0;
	/** Leads quarantined because their detail could not be fetched (written as membership only). */
	let fetchFailures = 0;

	try {
		if (!dryRun) quarantinedIds = new Set((await store.quarantined(segmentId, 100_000)).map((q) => q.lead_id));
		walks: for (;;) {
			stats.walks += 1;
			walkReceived = 0;
			walkHandled = 0;
			emit({ type: 'walk', segmentId, walk: pass.walk });
			let previousIds: number[] | null = null;
			for (;;) {
				throwIfStopped();
				const page = await source.segmentPage(segmentId, { page: pass.nextPage, limit: pass.limit, query: projection }, controller.signal);
				stats.pages += 1;
				if (pass.total < 0) pass.total = page.total;
				if (page.total !== pass.total) pass.shifted = true;

				if (page.received === 0 && page.total === 0 && pass.nextPage === 0 && pass.walk === 1) await checkSegmentExists();
				if (page.received === 0) {
					// The end is an empty page; complete only if the walk saw as many leads as announced.
					if (pass.seen < pass.total) pass.shifted = true;
					break;
				}
				// A server may honour a smaller page than asked: learn it on page 0, so that page
				// numbers mean the same offsets whichever way the server counts them.
				if (pass.nextPage === 0 && page.received < pass.limit && page.received < page.total) pass.limit = page.received;

				const ids = page.leads.map((lead) => lead.id);
				if (previousIds && sameIds(previousIds, ids)) {
					incompleteReason = `SprintHub returned page ${pass.nextPage} identical to the page before; paging stopped.`;
					keepError(new SyncError({ errorClass: 'transient', code: 'repeated_page', message: incompleteReason }).toJSON());
					break walks;
				}
				if (previousIds && ids.some((id) => previousIds!.includes(id))) pass.shifted = true;
				previousIds = ids;
				pass.seen += page.received;
				stats.leadsSeen += page.received;
				walkReceived += page.received;
				emit({ type: 'page', segmentId, page: pass.nextPage, leads: page.received, total: page.total, seen: pass.seen });

				for (const bad of page.invalid) {
					stats.failed += 1;
					keepError(toSyncError(bad.error, [], 'data').toJSON());
				}
				await processPage(page.leads, `${pass.walk}:${pass.nextPage}`);
				walkHandled += page.leads.length;
				pass.nextPage += 1;

				if (pass.seen > Math.max(pass.total, page.total) + 2 * pass.limit) {
					incompleteReason = `SprintHub kept returning leads past the announced total (${page.total}); paging stopped.`;
					keepError(new SyncError({ errorClass: 'transient', code: 'pages_past_total', message: incompleteReason }).toJSON());
					break walks;
				}
			}
			mostInOneWalk = Math.max(mostInOneWalk, walkReceived);
			mostHandledInOneWalk = Math.max(mostHandledInOneWalk, walkHandled);
			if (!pass.shifted) {
				// One lead leaving a page already read while another joins further on keeps total and
				// overlaps unchanged, yet hides a lead from this walk. So before anybody is marked as
				// left, a second (cheap: ids only, no detail calls) walk of the same pass must miss them too.
				if (!dryRun && !confirmingWalk && (await withDatabaseRetry(() => store.leaveCandidates(runId!))) > 0) {
					confirmingWalk = true;
					pass = { ...pass, walk: pass.walk + 1, nextPage: 0, seen: 0, total: -1, shifted: false };
					continue;
				}
				complete = true;
				break;
			}
			// Walks are bounded per run, not per pass: a run that resumes a restless pass gets its own
			// walks, otherwise it would resume at the end of the last walk and give up forever.
			if (stats.walks >= maxWalks) {
				incompleteReason = `The segment kept changing during ${stats.walks} walks; leavers will be marked after a stable run.`;
				break;
			}
			// The segment moved while we read it: walk it again. Membership seen in every walk of the
			// pass is kept, so the union survives and nobody who stayed is lost.
			pass = { ...pass, walk: pass.walk + 1, nextPage: 0, seen: 0, total: -1, shifted: false };
		}
	} catch (error) {
		stopHeartbeat();
		const syncError = leaseLost ?? (options.signal?.aborted ? cancelledError('The sync') : fromStoreError(error));
		const status: RunStatus =
			syncError.errorClass === 'cancelled' ? 'cancelled' : syncError.errorClass === 'throttled' ? 'rate_limited' : 'failed';
		const message =
			status === 'rate_limited'
				? `SprintHub kept throttling beyond the run's patience; stopped at page ${pass.nextPage}, the next run resumes there.`
				: status === 'cancelled'
					? `Cancelled at page ${pass.nextPage}; the next run resumes there.`
					: syncError.message;
		let finished: FinishResult | undefined;
		if (runId !== null && !leaseLost) {
			finished = await store
				.finish(runId, {
					status,
					message: `${message}${syncError.hint && status === 'failed' ? ` ${syncError.hint}` : ''}`,
					errorClass: syncError.errorClass === 'cancelled' ? null : syncError.errorClass,
					stats: engineStats(),
					complete: false,
				})
				.catch(() => undefined);
		}
		if (finished) adoptDatabaseStats(finished);
		return finishResult({ status, message, error: syncError.toJSON(), nextExecution: finished?.next_execution ?? null });
	}
	stopHeartbeat();
	stats.leadsSeen = Math.max(mostInOneWalk, walkReceived);

	const status: Exclude<RunStatus, 'skipped'> = stats.failed > 0 || incompleteReason ? 'partial' : 'success';
	if (dryRun) {
		const summary = `Dry run: ${stats.leadsSeen} leads seen; would insert ${stats.inserted}, update ${stats.updated}, leave ${stats.unchanged} unchanged; ${stats.detailCalls} detail calls made; ${stats.deleted} deleted in SprintHub. Nothing was written.`;
		return finishResult({ status, message: incompleteReason ? `${summary} ${incompleteReason}` : summary, complete });
	}
	let finished: FinishResult;
	try {
		finished = await withDatabaseRetry(() =>
			store.finish(runId!, {
				status,
				message: summaryOf(incompleteReason),
				errorClass: incompleteReason ? 'transient' : stats.failed > 0 ? 'data' : null,
				stats: engineStats(),
				complete,
			}),
		);
	} catch (error) {
		const syncError = fromStoreError(error);
		return finishResult({ status: 'failed', message: syncError.message, error: syncError.toJSON() });
	}
	adoptDatabaseStats(finished);
	return finishResult({
		status: finished.status === 'skipped' ? 'skipped' : (finished.status as RunStatus),
		message: finished.message ?? summaryOf(incompleteReason),
		left: finished.left,
		leftBlocked: finished.left_blocked,
		complete,
		nextExecution: finished.next_execution,
	});

	function summaryOf(extra: string): string {
		const parts = [
			`${stats.leadsSeen} leads seen`,
			`${stats.inserted} new`,
			`${stats.updated} updated`,
			`${stats.unchanged} unchanged`,
			`${stats.detailCalls} detail calls`,
		];
		if (stats.deleted) parts.push(`${stats.deleted} deleted in SprintHub`);
		if (stats.failed) parts.push(`${stats.failed} quarantined`);
		return `${parts.join(', ')}.${extra ? ` ${extra}` : ''}`;
	}

	/** Counters only the engine knows, sent to the run's log row as increments. */
	function engineStats() {
		const client = options.clientStats?.();
		return {
			requests: client?.requests ?? stats.requests,
			throttled: client?.throttled ?? stats.throttled,
			retries: client?.retries ?? stats.retries,
			backoff_ms: client?.backoffMs ?? stats.backoffMs,
			detail_calls: stats.detailCalls,
			walks: stats.walks,
			deleted: stats.deleted,
			// Per segment, not per walk: the database adds every page it is sent, and a segment walked
			// twice (moving, or confirming leavers) sends its pages twice.
			leads_seen: Math.max(mostInOneWalk, walkReceived),
			unchanged: Math.max(0, Math.max(mostHandledInOneWalk, walkHandled) - stats.inserted - stats.updated - stats.deleted - fetchFailures),
		};
	}

	/** The run's log row is the truth for what was written (it also counts resumed pages once). */
	function adoptDatabaseStats(finished: FinishResult) {
		const db = finished.stats ?? {};
		const take = (key: keyof RunStats, value: unknown) => {
			if (typeof value === 'number' && Number.isFinite(value)) stats[key] = value;
		};
		// pages stays the engine's count of list pages read: the log row counts written batches.
		take('inserted', db.inserted);
		take('updated', db.updated);
		// The database counts as unchanged only records it compared; leads that needed no rewrite
		// (membership only) are unchanged too, so: written in this run minus what changed, minus
		// leads that could not be fetched (quarantined, not written).
		// A segment walked twice (moving, or confirming leavers) is still one segment: leads seen is
		// what one walk saw, and whatever was not new, updated, deleted or failed is unchanged.
		stats.leadsSeen = Math.max(mostInOneWalk, walkReceived);
		const handled = Math.max(mostHandledInOneWalk, walkHandled);
		stats.unchanged = Math.max(0, handled - stats.inserted - stats.updated - stats.deleted - fetchFailures);
		take('joined', db.joined);
		take('left', db.left);
		if (typeof db.failed === 'number') stats.failed = Math.max(stats.failed, db.failed);
	}

	function refusedClaim(claim: ClaimRow | undefined): SegmentSyncResult {
		const outcome = claim?.outcome ?? 'unknown';
		if (outcome === 'busy') {
			return finishResult({
				status: 'skipped',
				message: `Segment ${segmentId} is being synced by ${claim?.lease_owner ?? 'another worker'} (lease until ${claim?.lease_expires_at ?? 'unknown'}); skipped.`,
			});
		}
		if (outcome === 'paused') {
			return finishResult({ status: 'skipped', message: `Segment ${segmentId} is paused; resume it with select sync_resume_segment(${segmentId});` });
		}
		if (outcome === 'not_due') {
			return finishResult({ status: 'skipped', message: `Segment ${segmentId} is not due yet.` });
		}
		if (outcome === 'error') {
			return finishResult({
				status: 'skipped',
				message: `Segment ${segmentId} is in status error after repeated failures; a manual run or select sync_resume_segment(${segmentId}); restarts it.`,
			});
		}
		const error = new SyncError({
			errorClass: 'configuration',
			code: 'segment_not_registered',
			message: `Segment ${segmentId} is not in sync_segments_control.`,
			hint: `Add it first: select sync_add_segment(${segmentId}); (or the node's Segment → Add operation, or sprinthub-sync segments add ${segmentId}).`,
		});
		return finishResult({ status: 'failed', message: `${error.message} ${error.hint}`, error: error.toJSON() });
	}

	/**
	 * An empty segment may be a segment SprintHub does not know (some servers answer so instead of
	 * 404): one look at the segment list tells them apart, so a typo is not synced as "empty".
	 */
	async function checkSegmentExists(): Promise<void> {
		if (!source.findSegment) return;
		let found: unknown;
		try {
			found = await source.findSegment(segmentId, controller.signal);
		} catch (error) {
			const syncError = toSyncError(error);
			if (syncError.errorClass === 'cancelled' || syncError.errorClass === 'configuration') throw syncError;
			return; // the list could not be read: treat the segment as empty, as SprintHub said
		}
		if (found !== null && found !== undefined) return;
		throw new SyncError({
			errorClass: 'configuration',
			code: 'unknown_segment',
			message: `Segment ${segmentId} does not exist in this SprintHub account: its page is empty and the account's segment list does not include it.`,
			hint: 'Check the segment id: list the account segments (the node offers them in a list) and use one of their ids.',
		});
	}

	function throwIfStopped(): void {
		if (leaseLost) throw leaseLost;
		if (controller.signal.aborted) throw cancelledError('The sync');
	}

	async function processPage(leads: Array<Record<string, unknown> & { id: number }>, pageKey: string): Promise<void> {
		const ids = leads.map((lead) => lead.id);
		const known: Map<number, LeadMarker> = ids.length ? await withDatabaseRetry(() => store.markers(ids)) : new Map();
		const needsDetail = (lead: Record<string, unknown> & { id: number }) => {
			if (enrichment === 'none') return false;
			if (enrichment === 'all') return true;
			const marker = known.get(lead.id);
			if (!marker || marker.enriched_at === null || quarantinedIds.has(lead.id)) return true;
			if (marker.change_marker !== changeMarkerOf(lead)) return true;
			return refreshBefore !== null && Date.parse(marker.enriched_at) < refreshBefore;
		};
		const detailFor = leads.filter(needsDetail);

		const writes: PageLead[] = [];
		const deletedIds: number[] = [];
		if (enrichment === 'none') {
			// List records only; one whose change marker did not move is membership only, like in 'changed'.
			for (const lead of leads) {
				const marker = changeMarkerOf(lead);
				const stored = known.get(lead.id);
				if (stored && marker !== null && stored.change_marker === marker) continue;
				writes.push({ id: lead.id, record: lead, marker, enriched: false });
			}
		}
		let done = 0;
		const fetching = mapWithConcurrency(
			detailFor,
			options.detailConcurrency ?? 4,
			async (lead) => {
				try {
					const detail = await fetchDetail(lead);
					if (detail === null) deletedIds.push(lead.id);
					else writes.push({ id: lead.id, record: mergeLeadRecords(lead, detail), marker: changeMarkerOf(lead), enriched: true });
				} catch (error) {
					const syncError = toSyncError(error);
					// A lead we cannot fetch is quarantined and retried by later runs; what concerns the
					// whole run (throttling past patience, credentials, cancellation) stops it.
					if (syncError.errorClass !== 'transient' && syncError.errorClass !== 'data') throw syncError;
					stats.failed += 1;
					fetchFailures += 1;
					keepError(syncError.toJSON());
					if (!dryRun) {
						await withDatabaseRetry(() =>
							store.quarantine(runId!, [{ lead_id: lead.id, stage: 'fetch', error: `${syncError.message}`, payload: lead }]),
						);
					}
				}
				done += 1;
				if (done % 25 === 0 || done === detailFor.length) emit({ type: 'details', segmentId, done, planned: detailFor.length });
			},
			controller.signal,
		);
		try {
			await fetching;
		} catch (error) {
			// Details already fetched are kept, without the checkpoint: a first sync of a big segment
			// that keeps being stopped mid-page (throttling, cancel, timeouts) still makes progress.
			if (!dryRun && !leaseLost && writes.length > 0) await writePage(writes, [], `${pageKey}:stopped`, false).catch(() => undefined);
			throw error;
		}
		throwIfStopped();

		const written = new Set(writes.map((write) => Number(write.id)));
		const deleted = new Set(deletedIds);
		if (dryRun) {
			for (const write of writes) {
				if (known.has(Number(write.id))) stats.updated += 1;
				else stats.inserted += 1;
			}
			stats.unchanged += ids.length - writes.length - deletedIds.length;
			stats.deleted += deletedIds.length;
			return;
		}
		// Leads that need no rewrite still count as seen in the segment (membership only).
		const membershipOnly: PageLead[] = ids.filter((id) => !written.has(id) && !deleted.has(id)).map((id) => ({ id }));
		// Deleted leads first: once the page's checkpoint commits, a crash must not lose the stamp.
		if (deletedIds.length) {
			await withDatabaseRetry(() => store.markDeleted(runId!, deletedIds));
			stats.deleted += deletedIds.length;
		}
		await writePage(writes, membershipOnly, pageKey);
	}

	/**
	 * One lead's details: from a concurrent run of another segment when it already asked for the same
	 * lead and marker, otherwise a call of our own (counted as a detail call).
	 */
	async function fetchDetail(lead: Record<string, unknown> & { id: number }) {
		const marker = changeMarkerOf(lead);
		const shared = deps.detailShare?.get(lead.id, marker);
		if (shared) {
			try {
				return await shared;
			} catch {
				// The other run's call failed or was cancelled: make our own.
			}
		}
		stats.detailCalls += 1;
		const call = source.leadDetail(lead.id, controller.signal);
		deps.detailShare?.set(lead.id, marker, call);
		return call;
	}

	/**
	 * Writes a page in batches bounded by rows and bytes. The checkpoint goes with the last batch,
	 * so a crash before it re-reads the page, whose upserts are idempotent.
	 */
	async function writePage(writes: PageLead[], membershipOnly: PageLead[], pageKey: string, withCheckpoint = true): Promise<void> {
		let pending = writes;
		let part = 0;
		for (;;) {
			const batch = batchesOf(pending, batchLimits).next().value ?? [];
			const rest = pending.slice(batch.length);
			const last = rest.length === 0;
			const items = last ? [...batch, ...membershipOnly] : batch;
			try {
				const counts = await withDatabaseRetry(() =>
					store.applyPage(runId!, items, {
						checkpoint: last && withCheckpoint ? ({ ...pass, nextPage: pass.nextPage + 1 } as unknown as Record<string, unknown>) : null,
						pageKey: `${pageKey}:${part}`,
					}),
				);
				stats.inserted += counts.inserted;
				stats.updated += counts.updated;
				stats.unchanged += counts.unchanged;
				stats.joined += counts.joined;
				emit({ type: 'written', segmentId, inserted: counts.inserted, updated: counts.updated, unchanged: counts.unchanged });
			} catch (error) {
				// A statement timeout means the batch is too heavy for the database: halve it and go on.
				if (error instanceof StoreError && error.kind === 'timeout' && batch.length > 1) {
					batchLimits = { maxRows: Math.max(1, Math.floor(batch.length / 2)), maxBytes: Math.max(10_000, Math.floor(batchLimits.maxBytes / 2)) };
					continue;
				}
				throw error;
			}
			if (last) return;
			pending = rest;
			part += 1;
		}
	}

	/** supabase-js never retries writes; ours are idempotent (page keys), so retry what may pass. */
	async function withDatabaseRetry<T>(call: () => Promise<T>): Promise<T> {
		for (let attempt = 1; ; attempt++) {
			try {
				return await call();
			} catch (error) {
				const retryable = error instanceof StoreError && error.retryable && error.kind !== 'timeout';
				if (!retryable || attempt >= DB_ATTEMPTS || controller.signal.aborted) throw error;
				stats.retries += 1;
				const delay = Math.min(8_000, 250 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
				await new Promise((resolve) => setTimeout(resolve, delay));
			}
		}
	}
}

/** The list value the database compares to decide whether a lead changed. */
export function changeMarkerOf(lead: Record<string, unknown>): string | null {
	const value = lead.updatedDate;
	return value === null || value === undefined ? null : String(value);
}

/** Database errors in the engine's vocabulary: what the user must fix vs. what may pass later. */
export function fromStoreError(error: unknown): SyncError {
	if (!(error instanceof StoreError)) return toSyncError(error);
	const configuration = ['migrations_missing', 'schema_not_exposed', 'permission', 'auth', 'unknown_segment', 'invalid_argument'];
	const errorClass = configuration.includes(error.kind) ? 'configuration' : error.retryable ? 'transient' : 'system';
	return new SyncError({ errorClass, code: `database_${error.kind}`, message: error.message, httpStatus: error.status || undefined, cause: error });
}

function readCheckpoint(value: Record<string, unknown> | null): SyncCheckpoint | null {
	if (!value || typeof value !== 'object') return null;
	const c = value as Partial<SyncCheckpoint>;
	if (typeof c.nextPage !== 'number' || typeof c.limit !== 'number' || c.limit < 1) return null;
	return {
		walk: typeof c.walk === 'number' ? c.walk : 1,
		nextPage: c.nextPage,
		limit: c.limit,
		seen: typeof c.seen === 'number' ? c.seen : 0,
		total: typeof c.total === 'number' ? c.total : -1,
		shifted: c.shifted === true,
		enrichment: c.enrichment === 'all' || c.enrichment === 'none' ? c.enrichment : 'changed',
	};
}

function sameIds(a: number[], b: number[]): boolean {
	return a.length === b.length && a.every((id, index) => id === b[index]);
}

function round2(value: number): number {
	return Math.round(value * 100) / 100;
}
