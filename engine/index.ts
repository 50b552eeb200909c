/** The sync engine: plain TypeScript that the node, the command line and the tests all drive. */
export { SyncEngine, budgetAccount, supabaseUrlProblem } from './engine';
export type { SprintHubConnection, SupabaseConnection, SyncEngineOptions, SyncRunOptions, EngineProgressEvent, BudgetProgressEvent } from './engine';
export { syncSegment } from './sync/syncSegment';
export { changeMarkerOf, MARKER_PROJECTION, LIST_PROJECTION } from './sync/projections';
export { fromStoreError } from './sync/databaseCalls';
export type { SegmentSyncOptions, SyncStoreForRuns } from './sync/syncSegment';
export type * from './sync/ports';
export { mergeLeadRecords } from './sync/mergeLead';
export { LeadRefresher, leadRefresher } from './sync/leadRefresh';
export type { LeadRefreshPorts, LeadRefreshResult, LeadRefreshStatus } from './sync/leadRefresh';
export { SyncError, toSyncError, isSyncError } from './errors';
export { redactSecrets } from './redaction';
export type { SyncErrorClass, SyncErrorJson } from './errors';
export * from './sprinthub';
export { SyncStore, StoreError, schemaNameProblem } from './store';
export type {
	ClaimRow,
	SegmentControl,
	SegmentHealth,
	RunLog,
	FinishResult,
	AddSegmentOptions,
	QuarantinedLead,
	SegmentStatus,
	SegmentHealthState,
	AccountBudgetRow,
	ReportRun,
	HourlyCalls,
} from './store';
export * from './report';
