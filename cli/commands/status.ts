/**
 * status [segmentId…]: each registered segment's health, last run and next run, from the database.
 */
import { EXIT } from '../errors';
import { formatNumber, relativeTime, table } from '../output';
import { parseSegmentIds } from './arguments';
import { withEngine } from './connections';
import type { CommandContext } from './context';

export async function showStatus(context: CommandContext): Promise<number> {
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
