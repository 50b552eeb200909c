/**
 * What the shared SprintHub budget needs from the database (the RPCs of
 * supabase/migrations/20261201000300_sync_account_budget.sql and 20261201001600_sync_budget_reserve.sql),
 * and what it tells the run.
 */

/** The account as the database knows it: never the token. */
export interface BudgetAccount {
	key: string;
	baseUrl: string;
	instance: string;
}

/** What the database answered (times in the database's clock, epoch ms). */
export interface BudgetAnswer {
	granted: number;
	waitMs: number;
	epoch: number;
	/** The rate set for the account (SQL, node, CLI), or null when none is set. */
	accountPerMinute: number | null;
	configuredPerMinute: number;
	currentPerMinute: number;
	pausedUntil: number | null;
	episodeStartedAt: number | null;
	now: number;
	/** The reserved slots: each one's time in ms after `now`, ascending (empty when none was granted). */
	slotsMs: number[];
}

/** The RPCs sync_budget_reserve, sync_budget_release and sync_budget_throttle. */
export interface BudgetStore {
	/** Up to `want` slots, the first ones now, then spaced at the account's rate, none beyond `horizonMs`. */
	reserveBudget(
		account: BudgetAccount,
		request: { want: number; horizonMs: number; requestsPerMinute: number; successes: number; epoch: number | null },
		signal?: AbortSignal,
	): Promise<BudgetAnswer>;
	/** Gives back reserved slots this process will not spend (sync_budget_release). */
	releaseBudget(account: BudgetAccount, request: { count: number; epoch: number | null; requestsPerMinute: number }, signal?: AbortSignal): Promise<BudgetAnswer>;
	reportBudgetThrottle(
		account: BudgetAccount,
		request: { epoch: number | null; retryAfterMs?: number; requestsPerMinute: number; backoffBaseMs: number; backoffMaxMs: number },
		signal?: AbortSignal,
	): Promise<BudgetAnswer>;
}

export type BudgetNotice =
	| { mode: 'fallback'; requestsPerMinute: number; message: string }
	| { mode: 'shared'; requestsPerMinute: number; message: string };
