export { SyncStore, type ConnectOptions, type SyncStoreOptions } from './SyncStore';
export { StoreError, toStoreError, redact, type StoreErrorKind, type PostgrestErrorLike } from './errors';
export * from './types';
