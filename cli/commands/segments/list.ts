/**
 * segments list: the registered segments, joined with SprintHub's segment list when SprintHub is
 * configured (and said plainly when it is not, or cannot be read).
 */
import type { SprintHubSegment } from '../../../engine';
import { EXIT, UsageError } from '../../errors';
import { formatNumber, relativeTime, table } from '../../output';
import { withEngine } from '../connections';
import type { CommandContext } from '../context';

export async function listSegments(context: CommandContext): Promise<number> {
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
