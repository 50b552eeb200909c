import { alertsOf } from '../../nodes/SprintHubSegmentSync/actions/syncHealth/check.operation';
import type { SegmentHealth } from '../../engine/store';

const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();
const thresholds = { maxConsecutiveFailures: 0, maxRunMinutes: 30, minSuccessRate: 0, staleAfterHours: 26 };

function health(overrides: Partial<SegmentHealth>): SegmentHealth {
	return {
		segment_id: 101,
		segment_name: 'Hot leads',
		status: 'active',
		schedule: '0 6 * * *',
		next_execution: hoursAgo(-20),
		last_execution: hoursAgo(1),
		last_status: 'success',
		last_success_at: hoursAgo(1),
		consecutive_failures: 0,
		max_consecutive_failures: 5,
		running: false,
		lease_owner: null,
		lease_expires_at: null,
		has_checkpoint: false,
		last_message: null,
		last_error_class: null,
		last_finished_at: hoursAgo(1),
		last_duration_seconds: 60,
		recent_runs: 3,
		recent_success_rate: 100,
		typical_duration_seconds: 60,
		seconds_since_success: 3600,
		members: 100,
		quarantined: 0,
		health: 'ok',
		leavers_pending: 0,
		...overrides,
	};
}

describe('Sync Health → Check: which alerts a segment raises', () => {
	it('a healthy segment raises none', () => {
		expect(alertsOf(health({}), thresholds)).toEqual([]);
	});

	it('a first sync still running elsewhere is not stale (it never succeeded, but it is under way)', () => {
		expect(alertsOf(health({ last_status: 'running', last_success_at: null, seconds_since_success: null, running: true, health: 'running' }), thresholds)).toEqual([]);
	});

	it('a segment that never succeeded is stale once its last run is older than the threshold', () => {
		const never = { last_success_at: null, seconds_since_success: null, last_status: 'rate_limited' as const };
		expect(alertsOf(health({ ...never, last_execution: hoursAgo(2) }), thresholds)).toEqual([]);
		expect(alertsOf(health({ ...never, last_execution: hoursAgo(30) }), thresholds)).toEqual(['stale']);
	});

	it('no success for longer than the threshold, or an overdue schedule, is stale', () => {
		expect(alertsOf(health({ seconds_since_success: 30 * 3600 }), thresholds)).toEqual(['stale']);
		expect(alertsOf(health({ health: 'overdue' }), thresholds)).toEqual(['stale']);
	});

	it('failing, slow and a low success rate follow their thresholds', () => {
		expect(alertsOf(health({ consecutive_failures: 1 }), thresholds)).toEqual(['failing']);
		expect(alertsOf(health({ last_duration_seconds: 31 * 60 }), thresholds)).toEqual(['slow']);
		expect(alertsOf(health({ recent_success_rate: 90 }), { ...thresholds, minSuccessRate: 95 })).toEqual(['low_success_rate']);
	});
});
