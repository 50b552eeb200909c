/**
 * segments reschedule <segmentId> <schedule>: a cron expression or an interval ("6 hours").
 */
import { EXIT, UsageError } from '../../errors';
import { parseSegmentIds } from '../arguments';
import { withEngine } from '../connections';
import type { CommandContext } from '../context';
import { printControl } from './printControl';

export async function reschedule(context: CommandContext): Promise<number> {
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
