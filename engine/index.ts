/** The sync engine: plain TypeScript that the node, the command line and the tests all drive. */
export { SyncEngine, normalizeSupabaseUrl } from './engine';
export type { SprintHubConnection, SupabaseConnection, SyncEngineOptions, SyncRunOptions } from './engine';
export { syncSegment } from './sync/syncSegment';
export { changeMarkerOf, MARKER_PROJECTION, LIST_PROJECTION } from './sync/projections';
export { fromStoreError } from './sync/databaseCalls';
export type { SegmentSyncOptions, SyncStoreForRuns } from './sync/syncSegment';
export type * from './sync/ports';
export { mergeLeadRecords } from './sync/mergeLead';
export { SyncError, redactSecrets, toSyncError, isSyncError } from './errors';
export type { SyncErrorClass, SyncErrorJson } from './errors';
export * from './sprinthub';
export { SyncStore, StoreError } from './store';
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
	ReportRun,
	HourlyCalls,
} from './store';
export * from './report';
