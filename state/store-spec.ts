/**
 * What a topology declares about a store, and how a task builds one from it: the
 * backend, then changelogging, then the write-back cache, then metering (Kafka Streams'
 * layering, one concern per layer).
 */
import { StreamingError } from '../src/errors';
import type { Serde, SerdeFor } from '../src/serdes';
import type { KeyValueBytesStore } from './bytes-store';
import { CachingKeyValueStore } from './caching';
import { ChangeLoggingKeyValueStore, type ChangelogWriter } from './changelogging';
import { InMemoryKeyValueStore } from './in-memory';
import { MeteredKeyValueStore, type StoreMeter } from './metered';
import type { StateDb } from './rocksdb/state-db';
import type { WindowTiming } from './window-store';
import { RocksDbKeyValueStore } from './rocksdb/store';

export type StoreBackend = 'rocksdb' | 'in-memory';

/** Declared by the DSL (aggregations) or by applications (`StreamsBuilder.addStateStore`). */
export interface StoreOptions<K, V> {
  name: string;
  keySerde: SerdeFor<K>;
  valueSerde: SerdeFor<V>;
  /** Back the store with a changelog topic `<applicationId>-<name>-changelog` (default true; without it the state is lost on restart). */
  logging?: boolean | undefined;
  /** Dirty keys the write-back cache holds before it flushes early; 0 turns the cache off (default 10,000). */
  cacheMaxEntries?: number | undefined;
  /**
   * 'in-memory' (default for Processor API stores) or 'rocksdb'. A RocksDB store serves
   * reads from keys loaded before each batch, so it needs `prefetchKeys`.
   */
  backend?: StoreBackend | undefined;
  /** The store keys processing a record with this key and timestamp may read (RocksDB backend). */
  prefetchKeys?: ((recordKey: unknown, timestamp: number) => readonly K[]) | undefined;
}

/** A window store's timing (set by windowed aggregations). */
export interface WindowSpec extends WindowTiming {
  sizeMs: number;
}

// biome-ignore-start lint/suspicious/noExplicitAny: specs are held untyped by the graph; the DSL types them.
export interface StoreSpec {
  name: string;
  keySerde: Serde<any>;
  valueSerde: Serde<any>;
  logging: boolean;
  cacheMaxEntries: number;
  backend: StoreBackend;
  /** For a window store: store keys are `{ key, start }` windows. */
  prefetchKeys: ((recordKey: unknown, timestamp: number) => readonly any[]) | undefined;
  window: WindowSpec | undefined;
}
// biome-ignore-end lint/suspicious/noExplicitAny: (end of StoreSpec)

/** Where and how large the RocksDB stores of a task are. */
export interface StoreContext {
  partition: number;
  db: StateDb | undefined;
  /** Committed keys a RocksDB store keeps loaded in memory between batches. */
  maxLoadedKeys: number;
  /** Where the metered layer reports; without one the stack has no metered layer. */
  meter?: StoreMeter | undefined;
}

export const DEFAULT_CACHE_MAX_ENTRIES = 10_000;

/** For a window store, `prefetchKeys` returns `{ key, start }` windows rather than keys. */
export function storeSpec<K, V>(
  o: Omit<StoreOptions<K, V>, 'prefetchKeys'> & {
    prefetchKeys?: ((recordKey: unknown, timestamp: number) => readonly unknown[]) | undefined;
    window?: WindowSpec;
  },
): StoreSpec {
  const invalid = (message: string, hint?: string): StreamingError => new StreamingError('SA_ERR_TOPOLOGY_INVALID', message, hint ? { hint } : {});
  if (!/^[A-Za-z0-9._-]+$/.test(o.name)) throw invalid(`store name "${o.name}" may contain only letters, digits, ".", "_" and "-" (it names a Kafka topic)`);
  const cacheMaxEntries = o.cacheMaxEntries ?? DEFAULT_CACHE_MAX_ENTRIES;
  if (!Number.isInteger(cacheMaxEntries) || cacheMaxEntries < 0)
    throw invalid(`store "${o.name}": cacheMaxEntries must be a whole number ≥ 0, not ${String(o.cacheMaxEntries)}`);
  const backend = o.backend ?? 'in-memory';
  if (backend !== 'rocksdb' && backend !== 'in-memory') throw invalid(`store "${o.name}": backend must be 'rocksdb' or 'in-memory', not "${String(backend)}"`);
  if (backend === 'rocksdb' && !o.prefetchKeys)
    throw invalid(
      `store "${o.name}": a RocksDB store needs prefetchKeys`,
      'RocksDB reads are asynchronous: the task loads the keys a batch will read before processing it',
    );
  return {
    name: o.name,
    keySerde: o.keySerde as Serde<K>,
    valueSerde: o.valueSerde as Serde<V>,
    logging: o.logging ?? true,
    cacheMaxEntries,
    backend,
    prefetchKeys: o.prefetchKeys,
    window: o.window,
  };
}

/** Backend ← changelogging ← cache ← metered. Without a database (the test driver), RocksDB stores are kept in memory. */
export function buildKeyValueStore(
  spec: StoreSpec,
  changelog: ChangelogWriter | undefined,
  context: StoreContext = { partition: 0, db: undefined, maxLoadedKeys: 0 },
): KeyValueBytesStore {
  let store: KeyValueBytesStore =
    spec.backend === 'rocksdb' && context.db
      ? new RocksDbKeyValueStore(spec.name, context.partition, context.db, context.maxLoadedKeys)
      : new InMemoryKeyValueStore(spec.name);
  if (changelog) store = new ChangeLoggingKeyValueStore(store, changelog);
  if (spec.cacheMaxEntries > 0) store = new CachingKeyValueStore(store, spec.cacheMaxEntries);
  if (context.meter) store = new MeteredKeyValueStore(store, context.meter);
  return store;
}
