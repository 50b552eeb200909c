/**
 * leads get <leadId>: one lead's full record from SprintHub, as JSON; needs no database.
 */
import { SyncEngine } from '../../../engine';
import { sprintHubSettings } from '../../config';
import { CliError, EXIT, UsageError } from '../../errors';
import { parseSegmentIds } from '../arguments';
import { checkSprintHub } from '../connections';
import type { CommandContext } from '../context';

export async function getLead(context: CommandContext): Promise<number> {
	const { args, flags, environment, output } = context;
	if (args.length !== 1) throw new UsageError('Usage: sprinthub-sync leads get <leadId> (one id).');
	const [id] = parseSegmentIds(args, 'lead');
	const settings = sprintHubSettings(flags, environment);
	output.addSecret(settings.token);
	const engine = new SyncEngine({
		sprinthub: { baseUrl: settings.baseUrl, instance: settings.instance, token: settings.token, patienceMs: 60_000 },
		// Not used by this command; the engine wants a project to hold a store.
		supabase: { url: 'http://127.0.0.1', serviceRoleKey: 'unused' },
	});
	try {
		const client = engine.sprintHub();
		await checkSprintHub(client, settings, context);
		const lead = await client.leadDetail(id, context.signal);
		if (!lead) throw new CliError(`Lead ${id} does not exist in SprintHub instance "${settings.instance}" (it may have been deleted).`, EXIT.failure);
		output.json(lead);
		return EXIT.success;
	} finally {
		await engine.close().catch(() => undefined);
	}
}
