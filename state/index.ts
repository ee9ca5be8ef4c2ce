/** The state-store engine's interface to `src/`. */
export type { KeyValueBytesStore, Entry } from './bytes-store';
export { prefixEnd } from './bytes-store';
export type { ChangelogWriter } from './changelogging';
export { TypedKeyValueStore, type KeyValueStore, type ReadOnlyKeyValueStore } from './key-value-store';
export { buildKeyValueStore, storeSpec, DEFAULT_CACHE_MAX_ENTRIES, type StoreOptions, type StoreSpec } from './store-spec';
