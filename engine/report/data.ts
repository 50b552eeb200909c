/**
 * What the sync health report shows, read from the database (sync_segments_health and the report
 * views) and shaped once, so the HTML page, the JSON answer and the e-mail all say the same thing.
 */
import type { HourlyCalls, ReportRun, SegmentHealth } from '../store/types';
import { adviceFor, alertsOf, DEFAULT_THRESHOLDS, type AlertKind, type HealthThresholds } from './alerts';

export interface ReportOptions {
	/** Days of history in the charts (default 30, 1 to 366). */
	days?: number;
	/** The account's SprintHub budget, drawn on the calls-per-hour chart (default 80 a minute). */
	requestsPerMinute?: number;
	thresholds?: Partial<HealthThresholds>;
	/** Only these segments (default all registered). */
	segmentIds?: number[];
	/** The report's clock (tests and benchmarks). */
	now?: Date;
}

/** One run as a chart point. */
export interface RunPoint {
	at: string;
	status: ReportRun['status'];
	durationSeconds: number | null;
	leadsSeen: number;
	inserted: number;
	updated: number;
	left: number;
	detailCalls: number;
	throttledSeconds: number;
	/** Percent of this and up to 19 earlier runs in the window that succeeded (the health view's measure); null for a run still running. */
	successRate: number | null;
}

export interface SegmentReport {
	id: number;
	name: string | null;
	health: SegmentHealth['health'];
	status: SegmentHealth['status'];
	alerts: AlertKind[];
	/** What to do now, or null when nothing is needed. */
	advice: string | null;
	lastRun: { at: string; status: string | null; durationSeconds: number | null; message: string | null; errorClass: string | null } | null;
	nextRun: string | null;
	members: number;
	quarantined: number;
	/** Percent of the last 20 finished runs that succeeded (sync_segments_health). */
	successRate: number | null;
	consecutiveFailures: number;
	runs: RunPoint[];
}

export interface SyncReport {
	generatedAt: string;
	window: { days: number; from: string; to: string };
	budget: { requestsPerMinute: number; requestsPerHour: number };
	thresholds: HealthThresholds;
	totals: { segments: number; needingAttention: number; members: number; quarantined: number; runs: number; failedRuns: number };
	segments: SegmentReport[];
	callsPerHour: HourlyCalls[];
}

/** The store calls the report needs (SyncStore has them). */
export interface ReportSource {
	health(segmentIds?: number[]): Promise<SegmentHealth[]>;
	reportRuns(options: { since: Date; segmentIds?: number[] }): Promise<ReportRun[]>;
	callsPerHour(since: Date): Promise<HourlyCalls[]>;
}

const RATE_WINDOW = 20;

export function reportWindow(options: ReportOptions): { days: number; from: Date; to: Date } {
	const days = options.days ?? 30;
	if (!Number.isInteger(days) || days < 1 || days > 366) throw new RangeError(`The report window is a whole number of days from 1 to 366, not ${days}.`);
	const to = options.now ?? new Date();
	return { days, from: new Date(to.getTime() - days * 86_400_000), to };
}

/** Reads everything the report shows: three queries, whatever the number of segments. */
export async function loadReport(source: ReportSource, options: ReportOptions = {}): Promise<SyncReport> {
	const window = reportWindow(options);
	const [health, runs, calls] = await Promise.all([
		source.health(options.segmentIds),
		source.reportRuns({ since: window.from, segmentIds: options.segmentIds }),
		source.callsPerHour(window.from),
	]);
	return buildReport(health, runs, calls, options);
}

/** Shapes rows already read (no I/O). */
export function buildReport(health: SegmentHealth[], runs: ReportRun[], calls: HourlyCalls[], options: ReportOptions = {}): SyncReport {
	const window = reportWindow(options);
	const thresholds: HealthThresholds = { ...DEFAULT_THRESHOLDS, ...options.thresholds };
	const requestsPerMinute = options.requestsPerMinute ?? 80;
	const runsBySegment = new Map<number, ReportRun[]>();
	for (const run of runs) {
		const id = Number(run.segment_id);
		let list = runsBySegment.get(id);
		if (!list) runsBySegment.set(id, (list = []));
		list.push(run);
	}
	const segments = health.map((row) => segmentReport(row, runsBySegment.get(Number(row.segment_id)) ?? [], thresholds, window.to.getTime()));
	return {
		generatedAt: window.to.toISOString(),
		window: { days: window.days, from: window.from.toISOString(), to: window.to.toISOString() },
		budget: { requestsPerMinute, requestsPerHour: requestsPerMinute * 60 },
		thresholds,
		totals: {
			segments: segments.length,
			needingAttention: segments.filter((s) => s.alerts.length > 0 || s.status === 'error').length,
			members: segments.reduce((sum, s) => sum + s.members, 0),
			quarantined: segments.reduce((sum, s) => sum + s.quarantined, 0),
			runs: runs.filter((r) => r.status !== 'running').length,
			failedRuns: runs.filter((r) => r.status !== 'running' && !r.succeeded).length,
		},
		segments,
		callsPerHour: calls
			.map((row) => ({ hour: new Date(row.hour).toISOString(), requests: Number(row.requests), throttled: Number(row.throttled), segments: Number(row.segments) }))
			.filter((row) => Date.parse(row.hour) <= window.to.getTime()),
	};
}

function segmentReport(row: SegmentHealth, runs: ReportRun[], thresholds: HealthThresholds, now: number): SegmentReport {
	const alerts = row.status === 'paused' ? [] : alertsOf(row, thresholds, now);
	const outcomes: boolean[] = [];
	const points = runs.map((run): RunPoint => {
		let successRate: number | null = null;
		if (run.status !== 'running') {
			outcomes.push(run.succeeded);
			const recent = outcomes.slice(-RATE_WINDOW);
			successRate = Math.round((1000 * recent.filter(Boolean).length) / recent.length) / 10;
		}
		return {
			at: new Date(run.execution_time).toISOString(),
			status: run.status,
			durationSeconds: run.duration_seconds === null ? null : Number(run.duration_seconds),
			leadsSeen: Number(run.leads_seen),
			inserted: Number(run.inserted),
			updated: Number(run.updated),
			left: Number(run.left_segment),
			detailCalls: Number(run.detail_calls),
			throttledSeconds: Number(run.throttled_seconds),
			successRate,
		};
	});
	const lastAt = row.last_finished_at ?? row.last_execution;
	return {
		id: Number(row.segment_id),
		name: row.segment_name,
		health: row.health,
		status: row.status,
		alerts,
		advice: adviceFor(row, alerts),
		lastRun: lastAt
			? {
					at: new Date(lastAt).toISOString(),
					status: row.last_status,
					durationSeconds: row.last_duration_seconds === null ? null : Number(row.last_duration_seconds),
					message: row.last_message,
					errorClass: row.last_error_class,
				}
			: null,
		nextRun: row.status === 'paused' || !row.next_execution ? null : new Date(row.next_execution).toISOString(),
		members: Number(row.members),
		quarantined: Number(row.quarantined),
		successRate: row.recent_success_rate === null ? null : Number(row.recent_success_rate),
		consecutiveFailures: Number(row.consecutive_failures),
		runs: points,
	};
}
