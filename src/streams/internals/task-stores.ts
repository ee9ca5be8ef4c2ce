/**
 * The state stores of one task (internal), built from the topology's store specs. They
 * outlive the task's processors: an aborted transaction recreates the processors but only
 * rolls the stores back (abort), and the commit protocol flushes and commits them.
 * Changelog records go to the task's partition of `<applicationId>-<store>-changelog`.
 * Persistent (RocksDB) stores restore from the task's checkpoint; see state/checkpoint.ts.
 */
import {
  readCheckpoint,
  writeCheckpoint,
  windowKeyProblem,
  buildKeyValueStore,
  TypedKeyValueStore,
  TypedWindowStore,
  type Change,
  type KeyValueBytesStore,
  type KeyValueStore,
  type StoreContext,
  type StoreSpec,
  type WindowStore,
} from '../../../state';
import type { RecordCollector } from './record-collector';

interface TaskStore {
  spec: StoreSpec;
  bytes: KeyValueBytesStore;
  /** The typed view processors use: a key-value store, or a window store. */
  typed: KeyValueStore<unknown, unknown> | undefined;
  windowed: TypedWindowStore<unknown, unknown> | undefined;
  changelog: string;
  persistent: boolean;
}

/** One changelog partition to restore; `from` < 0: wipe the store, then restore everything. */
export interface RestoreTarget {
  store: string;
  topic: string;
  partition: number;
  from: number;
  wipe(): Promise<void>;
  restore(batch: readonly Change[]): Promise<void>;
  /** Why a changelog key cannot be a key of this store (restoration skips it), or undefined. */
  keyProblem?(key: Buffer): string | undefined;
  /** Restoration reached `end`: the checkpoint may say so. */
  restored(end: number): void;
}

/** What a task's stores are built from, by name. */
export interface TaskStoresOptions {
  specs: readonly StoreSpec[];
  context: StoreContext;
  /** The changelog topic of a store (`<applicationId>-<store>-changelog`). */
  changelogTopic: (store: string) => string;
  /** Where changelog records go: the task's producer, or the test driver. */
  collector: RecordCollector;
  /** The task's checkpoint; without one nothing is read or written (the test driver). */
  checkpointFile?: string;
}

export class TaskStores {
  private readonly context: StoreContext;
  private readonly checkpointFile: string | undefined;
  private readonly stores = new Map<string, TaskStore>();
  /** Timestamp for changelog records: the task's stream time when the write was flushed. */
  private streamTime = 0;
  private readonly checkpointed = new Map<string, number>();
  /** Changelog partitions of persistent stores whose restoration has not finished: a close must not checkpoint them. */
  private readonly unrestored = new Set<string>();

  constructor({ specs, context, changelogTopic, collector, checkpointFile }: TaskStoresOptions) {
    this.context = context;
    this.checkpointFile = checkpointFile;
    for (const spec of specs) {
      const topic = changelogTopic(spec.name);
      const writer = spec.logging
        ? { log: (key: Buffer, value: Buffer | null) => collector.send(topic, key, value, this.streamTime, [], context.partition) }
        : undefined;
      const bytes = buildKeyValueStore(spec, writer, context);
      const persistent = spec.backend === 'rocksdb' && context.db !== undefined;
      const windowed = spec.window ? new TypedWindowStore(bytes, spec.keySerde, spec.valueSerde, topic, spec.window) : undefined;
      const typed = spec.window ? undefined : new TypedKeyValueStore(bytes, spec.keySerde, spec.valueSerde, topic);
      this.stores.set(spec.name, { spec, bytes, typed, windowed, changelog: topic, persistent });
    }
  }

  get size(): number {
    return this.stores.size;
  }

  /** Whether any store loads keys before a batch (persistent stores with prefetchKeys). */
  get needsPrefetch(): boolean {
    for (const s of this.stores.values()) if (s.persistent && s.spec.prefetchKeys) return true;
    return false;
  }

  /** A store's spec, byte-level stack and changelog topic (interactive queries read through these). */
  entry(name: string): { spec: StoreSpec; bytes: KeyValueBytesStore; changelog: string } | undefined {
    return this.stores.get(name);
  }

  typed<K, V>(name: string): KeyValueStore<K, V> | undefined {
    return this.stores.get(name)?.typed as KeyValueStore<K, V> | undefined;
  }

  window<K, V>(name: string): WindowStore<K, V> | undefined {
    return this.stores.get(name)?.windowed as WindowStore<K, V> | undefined;
  }

  observe(timestamp: number): void {
    if (timestamp > this.streamTime) this.streamTime = timestamp;
  }

  /** Loads what processing records with these keys will read from the persistent stores. */
  async prefetch(records: readonly { key: unknown; timestamp: number }[]): Promise<void> {
    const loads: Promise<void>[] = [];
    for (const s of this.stores.values()) {
      const keysOf = s.spec.prefetchKeys;
      if (!s.persistent || !keysOf) continue;
      const keys: Buffer[] = [];
      for (const r of records) {
        if (r.key === null || r.key === undefined) continue;
        for (const k of keysOf(r.key, r.timestamp)) {
          const bytes = s.windowed
            ? s.windowed.storeKey((k as { key: unknown }).key, (k as { start: number }).start)
            : s.spec.keySerde.serialize(s.changelog, k);
          if (bytes) keys.push(bytes);
        }
      }
      if (keys.length > 0) loads.push(s.bytes.prefetch(keys));
    }
    await Promise.all(loads);
  }

  /** The changelog partitions to restore, from the checkpoint for persistent stores. */
  restoreTargets(): RestoreTarget[] {
    const checkpoint = this.checkpointFile ? readCheckpoint(this.checkpointFile) : undefined;
    return [...this.stores.values()]
      .filter((s) => s.spec.logging)
      .map((s) => {
        const tp = `${s.changelog}:${this.context.partition}`;
        const from = !s.persistent ? 0 : checkpoint?.ok ? (checkpoint.offsets.get(tp) ?? -1) : -1;
        if (s.persistent) this.unrestored.add(tp);
        // Kept until this store's restoration replaces it, so a sibling's rewrite of the file does not drop it.
        if (s.persistent && from >= 0) this.checkpointed.set(tp, from);
        return {
          store: s.spec.name,
          topic: s.changelog,
          partition: this.context.partition,
          from,
          wipe: () => {
            // The checkpoint goes first: a crash after the wipe must not leave one claiming the emptied store holds anything.
            if (this.checkpointed.delete(tp) && this.checkpointFile) writeCheckpoint(this.checkpointFile, this.checkpointed);
            return s.bytes.wipe();
          },
          restore: (batch) => s.bytes.restore(batch),
          ...(s.spec.window ? { keyProblem: (key: Buffer) => windowKeyProblem(key, s.spec.window!.segmentMs) } : {}),
          restored: (end) => {
            this.unrestored.delete(tp);
            if (!s.persistent || !this.checkpointFile) return;
            this.checkpointed.set(tp, end);
            writeCheckpoint(this.checkpointFile, this.checkpointed);
          },
        };
      });
  }

  /** Why restoration starts from scratch, if it does (for the log). */
  checkpointProblem(): string | undefined {
    if (!this.checkpointFile || ![...this.stores.values()].some((s) => s.persistent && s.spec.logging)) return undefined;
    const c = readCheckpoint(this.checkpointFile);
    return c.ok ? undefined : c.reason;
  }

  flush(): void {
    for (const s of this.stores.values()) s.bytes.flush();
  }

  /** After the Kafka commit; then window stores drop the segments past their retention. */
  async commit(): Promise<void> {
    await Promise.all([...this.stores.values()].map((s) => s.bytes.commit()));
    await Promise.all([...this.stores.values()].map((s) => s.windowed?.expire(this.streamTime)));
  }

  /**
   * The test driver's commit: without a database every store is in memory, where commit
   * and expiry do their work before their promises are even returned — so all of it is
   * done when this returns (the driver's API is synchronous).
   */
  commitInMemory(): void {
    if (this.context.db) throw new Error('commitInMemory() is for stores without a database');
    for (const s of this.stores.values()) void s.bytes.commit();
    for (const s of this.stores.values()) void s.windowed?.expire(this.streamTime);
  }

  abort(): void {
    for (const s of this.stores.values()) s.bytes.abort();
  }

  /** The changelog partitions whose end offsets a clean close checkpoints. */
  persistentChangelogs(): { topic: string; partition: number }[] {
    return [...this.stores.values()].filter((s) => s.persistent && s.spec.logging).map((s) => ({ topic: s.changelog, partition: this.context.partition }));
  }

  /**
   * A clean close (after a commit) records where the local stores are, from the changelogs'
   * end offsets — once every store has its committed writes on disk. A store that could
   * not write them fails the close, and no checkpoint is written: the next start rebuilds.
   */
  async close(endOffsets?: ReadonlyMap<string, number>): Promise<void> {
    const changelogs = this.persistentChangelogs();
    const closed = await Promise.allSettled([...this.stores.values()].map((s) => s.bytes.close()));
    this.stores.clear();
    const failure = closed.find((c): c is PromiseRejectedResult => c.status === 'rejected');
    if (failure) throw failure.reason;
    if (endOffsets && this.checkpointFile) {
      for (const c of changelogs) {
        const tp = `${c.topic}:${c.partition}`;
        const end = endOffsets.get(tp);
        // A store whose restoration was cut short (a close during it) holds less than the changelog: its old checkpoint stays.
        if (end !== undefined && !this.unrestored.has(tp)) this.checkpointed.set(tp, end);
      }
      if (this.checkpointed.size > 0) writeCheckpoint(this.checkpointFile, this.checkpointed);
    }
  }
}
