/**
 * account show | account rate <N|unset>: the SprintHub account's shared rate budget
 * (sync_account_budgets), which every process syncing into this database takes its calls from.
 */
import { budgetAccount, type AccountBudgetRow } from '../../../engine';
import { EXIT, UsageError } from '../../errors';
import { formatNumber, relativeTime } from '../../output';
import { withEngine } from '../connections';
import type { CommandContext } from '../context';

export async function showAccountBudget(context: CommandContext): Promise<number> {
	return withEngine(context, { sprinthub: 'required' }, async ({ engine, sprinthub }) => {
		const account = budgetAccount(sprinthub!.baseUrl, sprinthub!.instance);
		const [row] = await engine.store.accountBudgets(account.key);
		if (context.flags.json) {
			context.output.json(row ?? null);
			return EXIT.success;
		}
		if (!row) {
			context.output.line(`Account ${account.baseUrl} (instance ${account.instance}): no budget yet (made by the first sync); each run uses its own --rate (default 80).`);
			return EXIT.success;
		}
		printRow(context, row);
		return EXIT.success;
	});
}

export async function setAccountRate(context: CommandContext): Promise<number> {
	const [value, ...rest] = context.args;
	if (value === undefined || rest.length > 0) throw new UsageError('Give one rate: sprinthub-sync account rate <requests per minute> (or "unset").');
	let rate: number | null;
	if (value === 'unset') rate = null;
	else {
		rate = Number(value);
		if (!/^\d+(\.\d+)?$/.test(value) || !(rate >= 1 && rate <= 1_000_000)) {
			throw new UsageError(`The rate must be a number of requests per minute from 1 to 1000000 (or "unset"), not "${value.slice(0, 40)}".`);
		}
	}
	return withEngine(context, { sprinthub: 'required' }, async ({ engine, sprinthub }) => {
		const row = await engine.store.setAccountRate(budgetAccount(sprinthub!.baseUrl, sprinthub!.instance), rate);
		if (context.flags.json) context.output.json(row);
		else printRow(context, row);
		return EXIT.success;
	});
}

function printRow(context: CommandContext, row: AccountBudgetRow): void {
	const { output } = context;
	const configured = row.requests_per_minute === null ? null : Number(row.requests_per_minute);
	output.line(`Account ${row.base_url} (instance ${row.instance})`);
	output.line(
		configured === null
			? '  requests per minute: not set (each run uses its own --rate, default 80)'
			: `  requests per minute: ${formatNumber(configured)} for every process together (a run's --rate can only lower it)`,
	);
	if (row.current_per_minute !== null && configured !== null && Number(row.current_per_minute) < configured) {
		output.line(`  now: ${formatNumber(Math.round(Number(row.current_per_minute)))} per minute after SprintHub throttled; climbing back while calls succeed`);
	}
	if (row.paused_until && Date.parse(row.paused_until) > Date.now()) output.line(`  paused until ${relativeTime(row.paused_until)} (SprintHub throttled)`);
	output.line(`  ${formatNumber(Number(row.granted_total))} calls granted · ${formatNumber(Number(row.throttled_total))} throttled · ${formatNumber(Number(row.rate_decreases_total))} slow-downs`);
}
