/** The SprintHub side of the engine: client, rate budget, clock. */
export { SprintHubClient } from './client';
export { listAllSegments } from './segments';
export { RateBudget, RateBudgetRegistry, rateBudgets } from './rateBudget';
export type { RateBudgetOptions, RateBudgetStats, AcquireOptions, BudgetTicket } from './rateBudget';
export { SharedRateBudget } from './sharedBudget';
export type { BudgetAccount, BudgetAnswer, BudgetStore, BudgetNotice, SharedRateBudgetOptions } from './sharedBudget';
export type { AccountBudget } from './accountBudget';
export { accountKey, normalizeBaseUrl, normalizeInstance, closeSprintHubAccounts } from './account';
export type { NormalizedBaseUrl } from './account';
export { systemClock } from './clock';
export type { Clock } from './clock';
export { parseRetryAfter } from './responses';
export type * from './types';
