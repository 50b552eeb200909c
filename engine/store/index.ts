export { SyncStore, type ConnectOptions, type SyncStoreOptions } from './SyncStore';
export { schemaNameProblem } from './schemaName';
export { StoreError, toStoreError, type StoreErrorKind, type PostgrestErrorLike } from './errors';
export * from './types';
