export { SyncStore, type ConnectOptions, type SyncStoreOptions } from './SyncStore';
export { StoreError, toStoreError, type StoreErrorKind, type PostgrestErrorLike } from './errors';
export * from './types';
