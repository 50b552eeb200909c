/**
 * segments add <segmentId…>: registers segments, with their names from SprintHub when it is
 * configured (an id SprintHub does not know is refused before anything is stored).
 */
import type { SegmentControl } from '../../../engine';
import { EXIT, UsageError } from '../../errors';
import { enrichmentFlag, numberFlag, parseSegmentIds } from '../arguments';
import { checkSprintHub, withEngine } from '../connections';
import type { CommandContext } from '../context';
import { printControl } from './printControl';

export async function addSegments(context: CommandContext): Promise<number> {
	const { flags, output, args } = context;
	if (args.length === 0) throw new UsageError('Name at least one segment: sprinthub-sync segments add <segmentId…>.');
	const ids = [...new Set(parseSegmentIds(args))];
	if (typeof flags.name === 'string' && ids.length > 1) throw new UsageError('--name applies to one segment at a time.');
	const fullRefreshDays = numberFlag(flags, 'full-refresh-days', { integer: true, min: 0, max: 3650 });
	const enrichment = enrichmentFlag(flags);
	return withEngine(context, { sprinthub: 'optional' }, async ({ engine, sprinthub }) => {
		await engine.store.listControl([ids[0]]);
		const names = new Map<number, string | null>();
		if (sprinthub && typeof flags.name !== 'string') {
			const client = engine.sprintHub();
			await checkSprintHub(client, sprinthub, context);
			const all = await client.listSegments({}, context.signal);
			for (const id of ids) {
				const found = all.find((segment) => segment.id === id) ?? (await client.findSegment(id, context.signal));
				if (!found) {
					throw new UsageError(`Segment ${id} does not exist in SprintHub instance "${sprinthub.instance}": check the id (SprintHub → Segments).`);
				}
				names.set(id, found.name);
			}
		} else if (!sprinthub) {
			output.info('sprinthub-sync: SprintHub is not configured, so the segment ids were not checked against SprintHub.');
		}
		const added: SegmentControl[] = [];
		for (const id of ids) {
			added.push(
				await engine.store.addSegment(id, {
					name: typeof flags.name === 'string' ? flags.name : (names.get(id) ?? null),
					schedule: typeof flags.schedule === 'string' ? flags.schedule : null,
					timezone: typeof flags.timezone === 'string' ? flags.timezone : null,
					enrichmentMode: enrichment ?? null,
					fullRefreshDays: fullRefreshDays ?? null,
				}),
			);
		}
		if (flags.json) output.json(added);
		else printControl(output, added, 'Registered');
		return EXIT.success;
	});
}
