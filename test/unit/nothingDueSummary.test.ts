import type { SegmentControl } from '../../engine';
import { nothingDueSummary } from '../../nodes/SprintHubSegmentSync/actions/segment/syncDue.operation';

/** The item Sync Due returns when it synced nothing: what a user reads in the output panel. */
const now = new Date('2026-12-01T05:00:00.000Z');
const row = (segment_id: number, status: SegmentControl['status'], next_execution: string | null, segment_name: string | null = null) =>
	({ segment_id, status, next_execution, segment_name }) as SegmentControl;

describe('Sync Due with nothing to sync', () => {
	test('names the segment due next and when', () => {
		const summary = nothingDueSummary(
			[row(101, 'active', '2026-12-01T06:00:00+00:00', 'Hot leads'), row(102, 'active', '2026-12-01T05:30:00+00:00'), row(103, 'paused', '2026-12-01T05:10:00+00:00')],
			now,
		);
		expect(summary).toEqual({
			status: 'nothing_due',
			segmentsDue: 0,
			message: 'No segment is due. Next: segment 102 at 2026-12-01T05:30:00.000Z.',
			nextSegmentId: 102,
			nextSegmentName: null,
			nextExecution: '2026-12-01T05:30:00.000Z',
		});
	});

	test('says when a due segment is being synced by another run', () => {
		const summary = nothingDueSummary([row(101, 'active', '2026-12-01T04:00:00Z', 'Hot leads'), row(102, 'active', '2026-12-02T06:00:00Z')], now);
		expect(summary.message).toBe('No segment was free to sync: Hot leads (101) is being synced by another run.');
		expect(summary.nextSegmentId).toBe(102);
	});

	test('says what to do when no segment is registered, or none is active', () => {
		expect(nothingDueSummary([], now)).toMatchObject({ nextSegmentId: null, nextExecution: null, message: expect.stringMatching(/^No segment is registered: add one with Segment → Add/) });
		expect(nothingDueSummary([row(101, 'paused', null), row(102, 'error', '2026-12-01T04:00:00Z')], now).message).toBe(
			'No segment is due, and none is active (2 paused or in error): resume one with Segment → Resume.',
		);
	});
});
