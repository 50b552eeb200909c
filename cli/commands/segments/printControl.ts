/**
 * One line per segment control row, said the same way by add, pause, resume and reschedule.
 */
import type { SegmentControl } from '../../../engine';
import { relativeTime, type Output } from '../../output';

export function printControl(output: Output, rows: SegmentControl[], verb: string): void {
	for (const row of rows) {
		const name = row.segment_name ? ` "${row.segment_name}"` : '';
		output.line(
			`${verb} segment ${row.segment_id}${name}: ${row.status}, schedule ${row.schedule} (${row.schedule_timezone}), ` +
				`next run ${row.status === 'paused' ? 'when resumed' : `${row.next_execution} (${relativeTime(row.next_execution)})`}, enrichment ${row.enrichment_mode}.`,
		);
	}
}
