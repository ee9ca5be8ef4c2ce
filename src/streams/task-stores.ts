/**
 * The state stores of one task (internal), built from the topology's store specs. They
 * outlive the task's processors: an aborted transaction recreates the processors but only
 * rolls the stores back (abort), and the commit protocol flushes and commits them.
 * Changelog records go to the task's partition of `<applicationId>-<store>-changelog`.
 */
import { buildKeyValueStore, TypedKeyValueStore, type KeyValueBytesStore, type KeyValueStore, type StoreSpec } from '../../state';
import type { RecordCollector } from './task-graph';

interface TaskStore {
  spec: StoreSpec;
  bytes: KeyValueBytesStore;
  typed: KeyValueStore<unknown, unknown>;
  changelog: string;
}

export interface ChangelogPartition {
  store: string;
  topic: string;
  partition: number;
}

export class TaskStores {
  private readonly stores = new Map<string, TaskStore>();
  /** Timestamp for changelog records: the task's stream time when the write was flushed. */
  private streamTime = 0;

  constructor(specs: readonly StoreSpec[], readonly partition: number, changelogTopic: (store: string) => string, collector: RecordCollector) {
    for (const spec of specs) {
      const topic = changelogTopic(spec.name);
      const writer = spec.logging ? { log: (key: Buffer, value: Buffer | null) => collector.send(topic, key, value, this.streamTime, [], partition) } : undefined;
      const bytes = buildKeyValueStore(spec, writer);
      this.stores.set(spec.name, { spec, bytes, typed: new TypedKeyValueStore(bytes, spec.keySerde, spec.valueSerde, topic), changelog: topic });
    }
  }

  get size(): number {
    return this.stores.size;
  }

  typed<K, V>(name: string): KeyValueStore<K, V> | undefined {
    return this.stores.get(name)?.typed as KeyValueStore<K, V> | undefined;
  }

  observe(timestamp: number): void {
    if (timestamp > this.streamTime) this.streamTime = timestamp;
  }

  /** The changelog partitions restoration reads, one per logged store. */
  changelogs(): ChangelogPartition[] {
    return [...this.stores.values()].filter((s) => s.spec.logging).map((s) => ({ store: s.spec.name, topic: s.changelog, partition: this.partition }));
  }

  restore(store: string, batch: readonly (readonly [Buffer, Buffer | null])[]): void {
    this.stores.get(store)!.bytes.restore(batch);
  }

  flush(): void {
    for (const s of this.stores.values()) s.bytes.flush();
  }

  commit(): void {
    for (const s of this.stores.values()) s.bytes.commit();
  }

  abort(): void {
    for (const s of this.stores.values()) s.bytes.abort();
  }

  close(): void {
    for (const s of this.stores.values()) s.bytes.close();
    this.stores.clear();
  }
}
