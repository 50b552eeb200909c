/**
 * prune: deletes run logs, resolved quarantine rows and left memberships older than the project's
 * retention settings (table sync_settings), now, whenever the last prune was (sync_prune).
 */
import { EXIT, UsageError } from '../errors';
import { formatNumber } from '../output';
import { withEngine } from './connections';
import type { CommandContext } from './context';

function days(value: number | null): string {
	return value === null ? 'kept' : `${value} days`;
}

export async function prune(context: CommandContext): Promise<number> {
	if (context.args.length > 0) throw new UsageError(`"prune" takes no arguments (got "${context.args.join(' ')}"): the settings are in table sync_settings.`);
	return withEngine(context, { sprinthub: 'none' }, async ({ engine }) => {
		const result = await engine.store.prune();
		if (context.flags.json) {
			context.output.json(result);
			return EXIT.success;
		}
		if (!result.pruned) {
			context.output.line(`Nothing pruned: ${result.reason}.`);
			return EXIT.success;
		}
		const { settings } = result;
		context.output.line(
			`Pruned ${formatNumber(result.logs)} run logs (older than ${days(settings.log_retention_days)}), ` +
				`${formatNumber(result.quarantine)} resolved quarantine rows (${days(settings.quarantine_retention_days)}), ` +
				`${formatNumber(result.memberships)} left memberships (${days(settings.left_membership_retention_days)}).`,
		);
		return EXIT.success;
	});
}
