/**
 * What a topology declares about a store, and how a task builds one from it: the
 * backend, then changelogging, then the write-back cache (Kafka Streams' layering,
 * one concern per layer).
 */
import { StreamingError } from '../src/errors';
import type { Serde, SerdeFor } from '../src/serdes/serde';
import type { KeyValueBytesStore } from './bytes-store';
import { CachingKeyValueStore } from './caching';
import { ChangeLoggingKeyValueStore, type ChangelogWriter } from './changelogging';
import { InMemoryKeyValueStore } from './in-memory';

/** Declared by the DSL (aggregations) or by applications (`StreamsBuilder.addStateStore`). */
export interface StoreOptions<K, V> {
  name: string;
  keySerde: SerdeFor<K>;
  valueSerde: SerdeFor<V>;
  /** Back the store with a changelog topic `<applicationId>-<name>-changelog` (default true; without it the state is lost on restart). */
  logging?: boolean;
  /** Dirty keys the write-back cache holds before it flushes early; 0 turns the cache off (default 10,000). */
  cacheMaxEntries?: number;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- specs are held untyped by the graph; the DSL types them. */
export interface StoreSpec {
  name: string;
  keySerde: Serde<any>;
  valueSerde: Serde<any>;
  logging: boolean;
  cacheMaxEntries: number;
}

export const DEFAULT_CACHE_MAX_ENTRIES = 10_000;

export function storeSpec<K, V>(o: StoreOptions<K, V>): StoreSpec {
  if (!/^[A-Za-z0-9._-]+$/.test(o.name)) throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', `store name "${o.name}" may contain only letters, digits, ".", "_" and "-" (it names a Kafka topic)`);
  const cacheMaxEntries = o.cacheMaxEntries ?? DEFAULT_CACHE_MAX_ENTRIES;
  if (!Number.isInteger(cacheMaxEntries) || cacheMaxEntries < 0) throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', `store "${o.name}": cacheMaxEntries must be a whole number ≥ 0, not ${String(o.cacheMaxEntries)}`);
  return { name: o.name, keySerde: o.keySerde, valueSerde: o.valueSerde, logging: o.logging ?? true, cacheMaxEntries };
}

export function buildKeyValueStore(spec: StoreSpec, changelog: ChangelogWriter | undefined): KeyValueBytesStore {
  let store: KeyValueBytesStore = new InMemoryKeyValueStore(spec.name);
  if (changelog) store = new ChangeLoggingKeyValueStore(store, changelog);
  if (spec.cacheMaxEntries > 0) store = new CachingKeyValueStore(store, spec.cacheMaxEntries);
  return store;
}
