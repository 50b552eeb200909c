/**
 * report [segmentId…] --html FILE | --json: the sync health dashboard from the database, the same
 * page n8n serves (Sync Health → Report), for when n8n is down and for attaching to an e-mail.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadReport, renderReportHtml } from '../../engine';
import { EXIT, UsageError } from '../errors';
import { numberFlag, parseSegmentIds } from './arguments';
import { withEngine } from './connections';
import type { CommandContext } from './context';

export async function showReport(context: CommandContext): Promise<number> {
	const { flags, output } = context;
	const html = flags.html === undefined ? undefined : String(flags.html).trim();
	if (html === '') throw new UsageError('--html needs a file name, e.g. --html sync-health.html.');
	if (html === undefined && !flags.json) throw new UsageError('Say what to produce: --html FILE (the dashboard page) or --json (its figures on stdout).');
	const ids = parseSegmentIds(context.args);
	const days = numberFlag(flags, 'days', { integer: true, min: 1, max: 366 }) ?? 30;
	const requestsPerMinute = numberFlag(flags, 'rate') ?? 80;
	return withEngine(context, { sprinthub: 'none' }, async ({ engine }) => {
		const report = await loadReport(engine.store, { days, requestsPerMinute, segmentIds: ids.length ? ids : undefined });
		if (html !== undefined) {
			const file = resolve(html);
			try {
				writeFileSync(file, renderReportHtml(report));
			} catch (error) {
				throw new UsageError(`Cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}. Pick a file in a folder you can write to.`);
			}
			const { segments, needingAttention } = report.totals;
			// With --json, stdout is for the JSON alone.
			const say = flags.json ? output.info.bind(output) : output.line.bind(output);
			say(`Wrote ${file}: ${segments} segment(s), ${needingAttention} needing attention, last ${days} days. Open it in a browser; it loads nothing from the network.`);
		}
		if (flags.json) output.json(report);
		return EXIT.success;
	});
}
