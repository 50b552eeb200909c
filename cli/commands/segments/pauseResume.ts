/**
 * segments pause|resume <segmentId…>: a paused segment is skipped by sync-due until resumed.
 */
import type { SegmentControl } from '../../../engine';
import { EXIT, UsageError } from '../../errors';
import { parseSegmentIds } from '../arguments';
import { withEngine } from '../connections';
import type { CommandContext } from '../context';
import { printControl } from './printControl';

export async function pauseOrResume(context: CommandContext, action: 'pause' | 'resume'): Promise<number> {
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
