/**
 * The alert rules of Sync Health → Check, shared with the report so that a card shows exactly the
 * alerts a check would raise, and what to do about the last error.
 */
import type { SegmentHealth } from '../store/types';

export type AlertKind = 'failing' | 'slow' | 'low_success_rate' | 'stale';

export interface HealthThresholds {
	maxConsecutiveFailures: number;
	maxRunMinutes: number;
	minSuccessRate: number;
	staleAfterHours: number;
}

/** The original system's rules: success rate under 95 %, a run over 10 minutes, more than 5 failures in a row. */
export const DEFAULT_THRESHOLDS: HealthThresholds = { maxConsecutiveFailures: 5, maxRunMinutes: 10, minSuccessRate: 95, staleAfterHours: 0 };

/** The range of each threshold; 0 switches the run-time and staleness rules off (documented), nothing else may. */
export const THRESHOLD_RANGES: Record<keyof HealthThresholds, { label: string; min: number; max: number; integer: boolean }> = {
	maxConsecutiveFailures: { label: 'Max Consecutive Failures', min: 0, max: 1000, integer: true },
	maxRunMinutes: { label: 'Max Run Minutes', min: 0, max: 10_080, integer: false },
	minSuccessRate: { label: 'Min Success Rate (%)', min: 0, max: 100, integer: false },
	staleAfterHours: { label: 'Stale After Hours', min: 0, max: 8_760, integer: false },
};

/**
 * Thresholds as typed (numbers, or strings from an expression); empty ones take the defaults. A value
 * that is not a number in range is an error naming the threshold: before, it became NaN, and every
 * comparison with NaN is false, so that alert was silently never raised.
 */
export function thresholdsFrom(input: Partial<Record<keyof HealthThresholds, unknown>>): { thresholds: HealthThresholds } | { field: keyof HealthThresholds; message: string } {
	const thresholds = { ...DEFAULT_THRESHOLDS };
	for (const field of Object.keys(THRESHOLD_RANGES) as Array<keyof HealthThresholds>) {
		const raw = input[field];
		if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) continue;
		const range = THRESHOLD_RANGES[field];
		const value = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : NaN;
		if (!Number.isFinite(value) || value < range.min || value > range.max || (range.integer && !Number.isInteger(value))) {
			const kind = range.integer ? 'a whole number' : 'a number';
			return { field, message: `${range.label} must be ${kind} from ${range.min} to ${range.max}, got ${JSON.stringify(raw)}` };
		}
		thresholds[field] = value;
	}
	return { thresholds };
}

/** The alert kinds a segment's health row shows under the thresholds. Paused segments raise none. */
export function alertsOf(health: SegmentHealth, thresholds: HealthThresholds, now = Date.now()): AlertKind[] {
	const alerts: AlertKind[] = [];
	if (health.status === 'error' || health.consecutive_failures > thresholds.maxConsecutiveFailures) alerts.push('failing');
	if (health.last_duration_seconds !== null && thresholds.maxRunMinutes > 0 && Number(health.last_duration_seconds) > thresholds.maxRunMinutes * 60) {
		alerts.push('slow');
	}
	if (health.recent_success_rate !== null && Number(health.recent_runs) > 0 && Number(health.recent_success_rate) < thresholds.minSuccessRate) {
		alerts.push('low_success_rate');
	}
	// A segment that never succeeded is measured from its last run, not stale at once: its first
	// sync may simply still be running (in another execution, or on another worker).
	const limitSeconds = thresholds.staleAfterHours * 3600;
	const sinceSuccess = health.seconds_since_success === null ? null : Number(health.seconds_since_success);
	const sinceLastRun = health.last_execution === null ? null : (now - Date.parse(health.last_execution)) / 1000;
	const staleBySuccess =
		thresholds.staleAfterHours > 0 &&
		!health.running &&
		sinceLastRun !== null &&
		(sinceSuccess !== null ? sinceSuccess > limitSeconds : sinceLastRun > limitSeconds);
	if (health.health === 'overdue' || staleBySuccess) alerts.push('stale');
	return alerts.sort();
}

/** What to do about a segment's state, in the words of the bundled alert workflow; null when nothing is needed. */
export function adviceFor(health: SegmentHealth, alerts: AlertKind[]): string | null {
	if (health.status === 'paused') return 'Paused on purpose: resume it with select sync_resume_segment(' + health.segment_id + ');';
	if (health.health === 'never_run') return 'Not synced yet: it runs at its next execution, or now with the node’s Segment → Sync or sprinthub-sync sync ' + health.segment_id + '.';
	const failed = health.last_status !== null && !['success', 'partial', 'running'].includes(health.last_status);
	if (failed || health.status === 'error' || alerts.includes('failing')) {
		switch (health.last_error_class) {
			case 'configuration':
				return 'Check the SprintHub credential (base URL, instance, API token) and that the segment exists in SprintHub; then sync it by hand.';
			case 'throttled':
				return 'SprintHub is throttling the account: lower Requests Per Minute or sync fewer segments at once. The next run resumes where this one stopped.';
			case 'transient':
				return 'SprintHub or the network failed for a while. Nothing is lost: the next run resumes from the checkpoint.';
			case 'data':
				return 'Some leads were quarantined: see sync_quarantine in Supabase and the lead in SprintHub.';
			default:
				return health.status === 'error'
					? `Stopped after ${health.consecutive_failures} failed runs: fix the cause, then select sync_resume_segment(${health.segment_id});`
					: 'Look at the run in sync_segments_logs and at the execution in n8n.';
		}
	}
	if (Number(health.quarantined) > 0) return `${health.quarantined} lead(s) quarantined: later runs retry them; see sync_quarantine for why.`;
	if (alerts.includes('slow')) return 'The last run took longer than the limit: check the segment size and Requests Per Minute.';
	if (alerts.includes('low_success_rate')) return 'Too many recent runs failed: look at the failed runs in sync_segments_logs.';
	if (alerts.includes('stale')) return 'No scheduled run happened in time: check that the sync workflow is active and n8n is running.';
	return null;
}
