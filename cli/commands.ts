/**
 * The commands: each resolves its configuration, checks the connections it needs (one clear line
 * when something is wrong), does its work through the engine and returns an exit code.
 */
import {
	StoreError,
	SyncEngine,
	type EnrichmentMode,
	type SegmentControl,
	type SegmentSyncResult,
	type SprintHubClient,
	type SprintHubSegment,
	type SyncRunOptions,
} from '../engine';
import {
	optionalSprintHubSettings,
	sprintHubSettings,
	supabaseSettings,
	type Environment,
	type SprintHubSettings,
	type SupabaseSettings,
} from './config';
import { CliError, displayUrl, EXIT, explainStoreError, UsageError, type ExitCode } from './errors';
import { formatDuration, formatNumber, relativeTime, table, type Output } from './output';
import { createReporter } from './progress';

export interface CommandContext {
	output: Output;
	flags: Record<string, unknown>;
	/** Positionals after the command (and subcommand). */
	args: string[];
	environment: Environment;
	signal: AbortSignal;
}

export async function runCommand(command: string, context: CommandContext): Promise<number> {
	switch (command) {
		case 'sync':
			return runSync(context, 'named');
		case 'sync-due':
			return runSync(context, 'due');
		case 'status':
			return showStatus(context);
		case 'segments list':
			return listSegments(context);
		case 'segments add':
			return addSegments(context);
		case 'segments pause':
		case 'segments resume':
			return pauseOrResume(context, command === 'segments pause' ? 'pause' : 'resume');
		case 'segments reschedule':
			return reschedule(context);
		case 'leads get':
			return getLead(context);
		default:
			throw new UsageError(`Unknown command "${command}".`);
	}
}

// ---------------------------------------------------------------- arguments

/** Segment ids as typed: positive integers only, with a message naming the bad one. */
export function parseSegmentIds(args: string[], what = 'segment'): number[] {
	return args.map((arg) => {
		const text = arg.trim();
		const id = /^\d+$/.test(text) ? Number(text) : NaN;
		if (!Number.isSafeInteger(id) || id <= 0) {
			throw new UsageError(`The ${what} id "${arg}" is not a positive integer: use the numeric id from SprintHub, e.g. 123.`);
		}
		return id;
	});
}

function numberFlag(flags: Record<string, unknown>, name: string, options: { integer?: boolean; min?: number; max?: number } = {}): number | undefined {
	const raw = flags[name];
	if (raw === undefined) return undefined;
	const text = String(raw).trim();
	const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
	const min = options.min ?? 1;
	const valid = Number.isFinite(value) && value >= min && (options.max === undefined || value <= options.max) && (!options.integer || Number.isInteger(value));
	if (!valid) {
		const kind = options.integer ? 'an integer' : 'a number';
		const range = options.max !== undefined ? ` from ${min} to ${options.max}` : ` of at least ${min}`;
		throw new UsageError(`--${name} needs ${kind}${range}, not "${text}".`);
	}
	return value;
}

function enrichmentFlag(flags: Record<string, unknown>): EnrichmentMode | undefined {
	const value = flags.enrichment;
	if (value === undefined) return undefined;
	if (value === 'changed' || value === 'all' || value === 'none') return value;
	throw new UsageError(`--enrichment is changed, all or none, not "${String(value)}".`);
}

function progressFlag(flags: Record<string, unknown>): 'auto' | 'bar' | 'lines' | 'none' {
	const value = flags.progress ?? 'auto';
	if (value === 'auto' || value === 'bar' || value === 'lines' || value === 'none') return value;
	throw new UsageError(`--progress is auto, bar, lines or none, not "${String(value)}".`);
}

// ---------------------------------------------------------------- connections

interface Connections {
	engine: SyncEngine;
	supabase: SupabaseSettings;
	sprinthub: SprintHubSettings | null;
}

/** Builds the engine for a command; `close` must always be awaited (it releases every socket). */
async function withEngine<T>(
	context: CommandContext,
	needs: { sprinthub: 'required' | 'optional' | 'none'; rate?: number; patienceMs?: number },
	work: (connections: Connections) => Promise<T>,
): Promise<T> {
	const { flags, environment, output } = context;
	const supabase = supabaseSettings(flags, environment);
	output.addSecret(supabase.serviceRoleKey);
	const sprinthub =
		needs.sprinthub === 'required'
			? sprintHubSettings(flags, environment)
			: needs.sprinthub === 'optional'
				? optionalSprintHubSettings(flags, environment)
				: null;
	output.addSecret(sprinthub?.token);
	let engine: SyncEngine;
	try {
		engine = new SyncEngine({
			sprinthub: {
				baseUrl: sprinthub?.baseUrl ?? 'http://127.0.0.1',
				instance: sprinthub?.instance ?? 'unset',
				token: sprinthub?.token ?? 'unset',
				requestsPerMinute: needs.rate,
				patienceMs: needs.patienceMs,
			},
			supabase: { url: supabase.url, serviceRoleKey: supabase.serviceRoleKey, schema: supabase.schema },
		});
	} catch (error) {
		throw new UsageError(`${(error as Error).message} (SUPABASE_URL or --supabase-url)`);
	}
	try {
		return await work({ engine, supabase, sprinthub });
	} catch (error) {
		if (error instanceof StoreError) throw explainStoreError(error, supabase.url);
		throw error;
	} finally {
		await engine.close().catch(() => undefined);
	}
}

/** One cheap call that tells a wrong token, a wrong instance and an unreachable host apart. */
async function checkSprintHub(client: SprintHubClient, settings: SprintHubSettings, context: CommandContext): Promise<void> {
	const ping = await client.ping(context.signal);
	if (ping.ok) return;
	const where = displayUrl(settings.baseUrl);
	switch (ping.reason) {
		case 'throttled':
			context.output.info('sprinthub-sync: SprintHub is throttling this account right now; the run will wait for its budget.');
			return;
		case 'invalid_token':
			throw new CliError(`SprintHub rejected the API token for instance "${settings.instance}": check SPRINTHUB_API_TOKEN (or --token).`, EXIT.usage);
		case 'unknown_instance':
			throw new CliError(`SprintHub does not know the instance "${settings.instance}": check SPRINTHUB_INSTANCE (or --instance), the account subdomain.`, EXIT.usage);
		case 'unreachable':
		case 'timeout':
			throw new CliError(`Cannot reach SprintHub at ${where}: check SPRINTHUB_BASE_URL (or --sprinthub-url) and the network.`, EXIT.failure);
		default:
			throw new CliError(`SprintHub at ${where} answered unexpectedly (${ping.message}): check SPRINTHUB_BASE_URL. ${ping.hint}`, EXIT.usage);
	}
}

// ---------------------------------------------------------------- sync, sync-due

async function runSync(context: CommandContext, mode: 'named' | 'due'): Promise<number> {
	const { flags, output, args, signal } = context;
	if (mode === 'named' && args.length === 0) throw new UsageError('Name at least one segment: sprinthub-sync sync <segmentId…> (e.g. sync 123 456).');
	if (mode === 'due' && args.length > 0) throw new UsageError('sync-due takes no segment ids (it takes the due ones); use "sync <segmentId…>" for named segments.');
	const ids = [...new Set(parseSegmentIds(args))];
	const rate = numberFlag(flags, 'rate', { min: 1, max: 1_000_000 });
	const patience = numberFlag(flags, 'patience', { min: 1, max: 86_400 });
	const batchSize = numberFlag(flags, 'batch-size', { integer: true, min: 1, max: 10_000 });
	const runOptions: SyncRunOptions = {
		trigger: 'cli',
		enrichment: enrichmentFlag(flags),
		fullRefresh: flags['full-refresh'] === true,
		dryRun: flags['dry-run'] === true,
		detailConcurrency: numberFlag(flags, 'concurrency', { integer: true, min: 1, max: 64 }),
		pageSize: numberFlag(flags, 'page-size', { integer: true, min: 1, max: 1000 }),
		parallel: numberFlag(flags, 'parallel', { integer: true, min: 1, max: 16 }),
		batch: batchSize ? { maxRows: batchSize, maxBytes: 1_000_000 } : undefined,
		signal,
	};
	const maxSegments = numberFlag(flags, 'max-segments', { integer: true, min: 1, max: 1000 });
	const progressMode = progressFlag(flags);

	return withEngine(context, { sprinthub: 'required', rate, patienceMs: patience ? patience * 1000 : undefined }, async ({ engine, sprinthub }) => {
		// Database first: a wrong key or missing migrations should not cost a SprintHub call.
		const control = await engine.store.listControl(mode === 'named' ? ids : undefined);
		if (mode === 'named') {
			const registered = new Set(control.map((row) => Number(row.segment_id)));
			const unknown = ids.filter((id) => !registered.has(id));
			if (unknown.length > 0) {
				throw new UsageError(
					`Segment${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not registered: add ${unknown.length > 1 ? 'them' : 'it'} with "sprinthub-sync segments add ${unknown.join(' ')}".`,
				);
			}
		}
		await checkSprintHub(engine.sprintHub(), sprinthub!, context);
		if (signal.aborted) return EXIT.cancelled;

		const reporter = createReporter(output, progressMode);
		let results: SegmentSyncResult[];
		try {
			results =
				mode === 'named'
					? await engine.syncSegments(ids, { ...runOptions, onProgress: (event) => reporter.onProgress(event) })
					: await engine.syncDue({ ...runOptions, maxSegments, onProgress: (event) => reporter.onProgress(event) });
		} finally {
			reporter.stop();
		}
		const exitCode = exitCodeFor(results, signal.aborted);
		if (flags.json) {
			output.json({ exitCode, outcome: outcomeOf(exitCode), results });
		} else if (results.length === 0) {
			output.line('No segment is due.');
		} else {
			printResults(output, results);
		}
		return exitCode;
	});
}

/** 0 success, 1 failure, 2 configuration, 3 partial or rate limited, 130 cancelled. */
export function exitCodeFor(results: SegmentSyncResult[], cancelled: boolean): ExitCode {
	if (cancelled || results.some((result) => result.status === 'cancelled')) return EXIT.cancelled;
	const failed = results.filter((result) => result.status === 'failed');
	if (failed.some((result) => result.error?.errorClass !== 'configuration')) return EXIT.failure;
	if (failed.length > 0) return EXIT.usage;
	if (results.some((result) => result.status === 'partial' || result.status === 'rate_limited')) return EXIT.partial;
	return EXIT.success;
}

function outcomeOf(exitCode: ExitCode): string {
	switch (exitCode) {
		case EXIT.success:
			return 'success';
		case EXIT.partial:
			return 'partial';
		case EXIT.cancelled:
			return 'cancelled';
		case EXIT.usage:
			return 'configuration';
		default:
			return 'failed';
	}
}

function printResults(output: Output, results: SegmentSyncResult[]): void {
	for (const result of results) {
		const s = result.stats;
		const name = result.segmentName ? ` "${result.segmentName}"` : '';
		output.line(`Segment ${result.segmentId}${name}: ${result.status}${result.dryRun ? ' (dry run)' : ''} in ${formatDuration(result.durationMs)}`);
		if (result.status !== 'skipped' && !(result.status === 'failed' && s.pages === 0)) {
			output.line(
				`  ${formatNumber(s.leadsSeen)} leads seen: ${formatNumber(s.inserted)} new, ${formatNumber(s.updated)} updated, ${formatNumber(s.unchanged)} unchanged` +
					` · ${formatNumber(s.detailCalls)} detail calls · ${formatNumber(result.left)} left the segment` +
					(s.deleted ? ` · ${formatNumber(s.deleted)} deleted in SprintHub` : '') +
					(s.failed ? ` · ${formatNumber(s.failed)} quarantined` : ''),
			);
			output.line(
				`  ${formatNumber(s.pages)} pages · ${formatNumber(s.requests)} requests · ${formatNumber(s.throttled)} throttled · ${formatNumber(s.retries)} retries` +
					(result.resumed ? ' · resumed from a checkpoint' : '') +
					(result.nextExecution ? ` · next run ${relativeTime(result.nextExecution)}` : ''),
			);
		}
		if (result.leftBlocked) output.line(`  ${formatNumber(result.leftBlocked)} leavers not marked: too large a share of the segment looked gone (leave guard).`);
		if (result.status !== 'success') output.line(`  ${result.message}`);
	}
	if (results.length > 1) {
		const sum = (pick: (result: SegmentSyncResult) => number) => results.reduce((total, result) => total + pick(result), 0);
		const byStatus = new Map<string, number>();
		for (const result of results) byStatus.set(result.status, (byStatus.get(result.status) ?? 0) + 1);
		output.line(
			`${results.length} segments: ${[...byStatus].map(([status, count]) => `${count} ${status}`).join(', ')}` +
				` · ${formatNumber(sum((r) => r.stats.leadsSeen))} leads · ${formatNumber(sum((r) => r.stats.detailCalls))} detail calls` +
				` · ${formatNumber(sum((r) => r.left))} left`,
		);
	}
}

// ---------------------------------------------------------------- status

async function showStatus(context: CommandContext): Promise<number> {
	const ids = parseSegmentIds(context.args);
	return withEngine(context, { sprinthub: 'none' }, async ({ engine }) => {
		const rows = await engine.store.health(ids.length ? ids : undefined);
		const { output } = context;
		if (context.flags.json) {
			output.json(rows);
			return EXIT.success;
		}
		if (rows.length === 0) {
			output.line(ids.length ? 'None of these segments is registered.' : 'No segment is registered yet: add one with "sprinthub-sync segments add <segmentId>".');
			return EXIT.success;
		}
		const lines = table(
			['segment', 'name', 'health', 'last run', 'result', 'members', 'quarantined', 'success %', 'next run', 'message'],
			rows.map((row) => [
				String(row.segment_id),
				row.segment_name ?? '',
				row.health,
				relativeTime(row.last_finished_at ?? row.last_execution),
				row.last_status ?? '-',
				formatNumber(Number(row.members)),
				formatNumber(Number(row.quarantined)),
				row.recent_success_rate === null ? '-' : String(row.recent_success_rate),
				row.status === 'paused' ? 'paused' : relativeTime(row.next_execution),
				row.last_message ?? '',
			]),
			output.width,
		);
		for (const line of lines) output.line(line);
		return EXIT.success;
	});
}

// ---------------------------------------------------------------- segments

async function listSegments(context: CommandContext): Promise<number> {
	if (context.args.length > 0) throw new UsageError('segments list takes no arguments.');
	return withEngine(context, { sprinthub: 'optional' }, async ({ engine, sprinthub }) => {
		const { output } = context;
		const [control, health] = await Promise.all([engine.store.listControl(), engine.store.health()]);
		const members = new Map(health.map((row) => [Number(row.segment_id), Number(row.members)]));
		let remote: SprintHubSegment[] | null = null;
		let remoteProblem = '';
		if (sprinthub) {
			try {
				remote = await engine.sprintHub().listSegments({}, context.signal);
			} catch (error) {
				remoteProblem = (error as Error).message;
			}
		}
		const byId = new Map((remote ?? []).map((segment) => [segment.id, segment]));
		const rows = control.map((row) => {
			const segment = byId.get(Number(row.segment_id));
			return {
				segment_id: Number(row.segment_id),
				name: row.segment_name ?? segment?.name ?? null,
				status: row.status,
				schedule: row.schedule,
				next_execution: row.next_execution,
				last_status: row.last_status,
				members: members.get(Number(row.segment_id)) ?? 0,
				in_sprinthub: remote ? segment !== undefined : null,
				sprinthub_name: segment?.name ?? null,
				sprinthub_total_leads: segment?.totalLeads ?? null,
			};
		});
		const registered = new Set(rows.map((row) => row.segment_id));
		const unregistered = (remote ?? []).filter((segment) => !registered.has(segment.id));
		if (context.flags.json) {
			output.json({
				source: remote ? 'sync_segments_control joined with SprintHub segments' : 'sync_segments_control only',
				segments: rows,
				notRegistered: remote ? unregistered.map((segment) => ({ id: segment.id, name: segment.name, totalLeads: segment.totalLeads })) : null,
			});
			return EXIT.success;
		}
		output.line(
			remote
				? `Registered segments (sync_segments_control) joined with SprintHub's segment list (instance ${sprinthub!.instance}):`
				: sprinthub
					? `Registered segments (sync_segments_control) only: SprintHub's segment list could not be read (${remoteProblem}).`
					: 'Registered segments (sync_segments_control) only: set SPRINTHUB_INSTANCE and SPRINTHUB_API_TOKEN to compare with SprintHub.',
		);
		if (rows.length === 0) output.line('  none yet: add one with "sprinthub-sync segments add <segmentId>".');
		else {
			const headers = ['segment', 'name', 'status', 'schedule', 'next run', 'last result', 'members'];
			if (remote) headers.push('in SprintHub');
			const lines = table(
				headers,
				rows.map((row) => {
					const cells = [
						String(row.segment_id),
						row.name ?? '',
						row.status,
						row.schedule,
						row.status === 'paused' ? 'paused' : relativeTime(row.next_execution),
						row.last_status ?? '-',
						formatNumber(row.members),
					];
					if (remote) cells.push(row.in_sprinthub ? `${formatNumber(row.sprinthub_total_leads)} leads` : 'not found');
					return cells;
				}),
				output.width,
			);
			for (const line of lines) output.line(`  ${line}`);
		}
		if (remote && unregistered.length > 0) {
			const shown = unregistered.slice(0, 20).map((segment) => `${segment.id} "${segment.name}" (${formatNumber(segment.totalLeads)} leads)`);
			output.line(`In SprintHub but not registered: ${shown.join(', ')}${unregistered.length > 20 ? `, and ${unregistered.length - 20} more` : ''}.`);
		}
		return EXIT.success;
	});
}

async function addSegments(context: CommandContext): Promise<number> {
	const { flags, output, args } = context;
	if (args.length === 0) throw new UsageError('Name at least one segment: sprinthub-sync segments add <segmentId…>.');
	const ids = [...new Set(parseSegmentIds(args))];
	if (typeof flags.name === 'string' && ids.length > 1) throw new UsageError('--name applies to one segment at a time.');
	const fullRefreshDays = numberFlag(flags, 'full-refresh-days', { integer: true, min: 0, max: 3650 });
	const enrichment = enrichmentFlag(flags);
	return withEngine(context, { sprinthub: 'optional' }, async ({ engine, sprinthub }) => {
		await engine.store.listControl([ids[0]]);
		const names = new Map<number, string | null>();
		if (sprinthub && typeof flags.name !== 'string') {
			const client = engine.sprintHub();
			await checkSprintHub(client, sprinthub, context);
			const all = await client.listSegments({}, context.signal);
			for (const id of ids) {
				const found = all.find((segment) => segment.id === id) ?? (await client.findSegment(id, context.signal));
				if (!found) {
					throw new UsageError(`Segment ${id} does not exist in SprintHub instance "${sprinthub.instance}": check the id (SprintHub → Segments).`);
				}
				names.set(id, found.name);
			}
		} else if (!sprinthub) {
			output.info('sprinthub-sync: SprintHub is not configured, so the segment ids were not checked against SprintHub.');
		}
		const added: SegmentControl[] = [];
		for (const id of ids) {
			added.push(
				await engine.store.addSegment(id, {
					name: typeof flags.name === 'string' ? flags.name : (names.get(id) ?? null),
					schedule: typeof flags.schedule === 'string' ? flags.schedule : null,
					timezone: typeof flags.timezone === 'string' ? flags.timezone : null,
					enrichmentMode: enrichment ?? null,
					fullRefreshDays: fullRefreshDays ?? null,
				}),
			);
		}
		if (flags.json) output.json(added);
		else printControl(output, added, 'Registered');
		return EXIT.success;
	});
}

async function pauseOrResume(context: CommandContext, action: 'pause' | 'resume'): Promise<number> {
	if (context.args.length === 0) throw new UsageError(`Name at least one segment: sprinthub-sync segments ${action} <segmentId…>.`);
	const ids = [...new Set(parseSegmentIds(context.args))];
	return withEngine(context, { sprinthub: 'none' }, async ({ engine }) => {
		const rows: SegmentControl[] = [];
		for (const id of ids) rows.push(action === 'pause' ? await engine.store.pauseSegment(id) : await engine.store.resumeSegment(id));
		if (context.flags.json) context.output.json(rows);
		else printControl(context.output, rows, action === 'pause' ? 'Paused' : 'Resumed');
		return EXIT.success;
	});
}

async function reschedule(context: CommandContext): Promise<number> {
	const [idText, ...scheduleParts] = context.args;
	if (!idText || scheduleParts.length === 0) {
		throw new UsageError(`Usage: sprinthub-sync segments reschedule <segmentId> <schedule>, e.g. reschedule 123 '0 6 * * *' or reschedule 123 '6 hours'.`);
	}
	const [id] = parseSegmentIds([idText]);
	// An unquoted cron expression arrives as several arguments.
	const schedule = scheduleParts.join(' ');
	const timezone = typeof context.flags.timezone === 'string' ? context.flags.timezone : undefined;
	return withEngine(context, { sprinthub: 'none' }, async ({ engine }) => {
		const row = await engine.store.rescheduleSegment(id, schedule, timezone);
		if (context.flags.json) context.output.json(row);
		else printControl(context.output, [row], 'Rescheduled');
		return EXIT.success;
	});
}

function printControl(output: Output, rows: SegmentControl[], verb: string): void {
	for (const row of rows) {
		const name = row.segment_name ? ` "${row.segment_name}"` : '';
		output.line(
			`${verb} segment ${row.segment_id}${name}: ${row.status}, schedule ${row.schedule} (${row.schedule_timezone}), ` +
				`next run ${row.status === 'paused' ? 'when resumed' : `${row.next_execution} (${relativeTime(row.next_execution)})`}, enrichment ${row.enrichment_mode}.`,
		);
	}
}

// ---------------------------------------------------------------- leads

async function getLead(context: CommandContext): Promise<number> {
	const { args, flags, environment, output } = context;
	if (args.length !== 1) throw new UsageError('Usage: sprinthub-sync leads get <leadId> (one id).');
	const [id] = parseSegmentIds(args, 'lead');
	const settings = sprintHubSettings(flags, environment);
	output.addSecret(settings.token);
	const engine = new SyncEngine({
		sprinthub: { baseUrl: settings.baseUrl, instance: settings.instance, token: settings.token, patienceMs: 60_000 },
		// Not used by this command; the engine wants a project to hold a store.
		supabase: { url: 'http://127.0.0.1', serviceRoleKey: 'unused' },
	});
	try {
		const client = engine.sprintHub();
		await checkSprintHub(client, settings, context);
		const lead = await client.leadDetail(id, context.signal);
		if (!lead) throw new CliError(`Lead ${id} does not exist in SprintHub instance "${settings.instance}" (it may have been deleted).`, EXIT.failure);
		output.json(lead);
		return EXIT.success;
	} finally {
		await engine.close().catch(() => undefined);
	}
}
