/** The state-store engine's interface to `src/`. */
export type { KeyValueBytesStore, Entry, Change } from './bytes-store';
export { prefixEnd } from './bytes-store';
export type { ChangelogWriter } from './changelogging';
export { TypedKeyValueStore, type KeyValue, type KeyValueStore, type ReadOnlyKeyValueStore } from './key-value-store';
export {
  buildKeyValueStore,
  storeSpec,
  DEFAULT_CACHE_MAX_ENTRIES,
  type StoreOptions,
  type StoreSpec,
  type StoreBackend,
  type StoreContext,
  type WindowSpec,
} from './store-spec';
export { readCheckpoint, writeCheckpoint } from './checkpoint';
export { TypedWindowStore, segmentInterval, windowKeyProblem, type WindowStore, type ReadOnlyWindowStore, type WindowTiming } from './window-store';
export { StateDb, type StateDbOptions } from './rocksdb/state-db';
export { COUNTED_OPERATIONS, type StoreMeter, type StoreStats, type StoreOperation, type TimedOperation } from './metered';
