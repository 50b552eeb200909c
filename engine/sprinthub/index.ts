/** The SprintHub side of the engine: client, rate budget, clock. */
export { SprintHubClient } from './client';
export { listAllSegments } from './segments';
export { RateBudget, RateBudgetRegistry, rateBudgets } from './rateBudget';
export type { RateBudgetOptions, RateBudgetStats, AcquireOptions, BudgetTicket } from './rateBudget';
export { accountKey, normalizeBaseUrl, normalizeInstance, closeSprintHubAccounts } from './account';
export type { NormalizedBaseUrl } from './account';
export { systemClock } from './clock';
export type { Clock } from './clock';
export { parseRetryAfter } from './responses';
export type * from './types';
