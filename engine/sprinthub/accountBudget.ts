/**
 * What the SprintHub client needs from a rate budget. Two implementations: `RateBudget` (one process)
 * and `SharedRateBudget` (every process syncing into the same database, through an RPC).
 */
import type { AcquireOptions, BudgetTicket, RateBudgetStats } from './rateBudget';

export interface AccountBudget {
	readonly configuredRequestsPerMinute: number;
	readonly currentRequestsPerMinute: number;
	/** Waits for the right to send one call. */
	acquire(signal?: AbortSignal, options?: AcquireOptions): Promise<BudgetTicket>;
	/** The call succeeded. */
	reportSuccess(ticket: BudgetTicket): void;
	/** The call was throttled; returns how long callers now wait before the next call, in ms. */
	reportThrottle(ticket: BudgetTicket, retryAfterMs?: number): number;
	/** The call failed for another reason. */
	reportFailure(ticket: BudgetTicket): void;
	stats(): RateBudgetStats;
	close(): void;
}
