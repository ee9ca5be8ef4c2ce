/**
 * TopologyTestDriver: runs a topology without Kafka, synchronously, like Kafka Streams'
 * test-utils. Each piped record is processed completely before pipeInput returns; output
 * that lands on a topic the topology also reads is fed back in, as a broker would. One
 * task per sub-topology ("<id>_0"): partitioning is not simulated. State stores are
 * committed after every piped record (their changelog records appear as output topics)
 * and rolled back when processing a record fails.
 */
import { StreamingError } from '../errors';
import type { Deserializer, Serializer } from '../serdes';
import { resolveOptions, type ResolvedStreamsOptions, type StreamsOptions } from '../streams/options';
import type { Headers } from '../streams/processor-api/record';
import { StreamTask } from '../streams/internals/stream-task';
import { TaskStores } from '../streams/internals/task-stores';
import type { KeyValueStore, WindowStore } from '../../state';
import type { TopologyGraph } from '../streams/internals/graph';
import { graphOf, type Topology } from '../streams/dsl/topology';
import { TestInputTopic, TestOutputTopic, type StoredRecord } from './test-topics';

export interface TestDriverOptions {
  /** The driver's clock, used as the default timestamp of piped records. Default: Date.now() at creation. */
  initialWallClockTimeMs?: number;
}

export class TopologyTestDriver {
  private readonly options: ResolvedStreamsOptions;
  private readonly graph: TopologyGraph;
  private readonly tasks: StreamTask[];
  private readonly stores: TaskStores[];
  private readonly taskByTopic = new Map<string, StreamTask>();
  private readonly topics = new Map<string, StoredRecord[]>();
  private readonly pending: { topic: string; record: StoredRecord }[] = [];
  private wallClock: number;
  private closed = false;

  constructor(topology: Topology, options: StreamsOptions, driverOptions: TestDriverOptions = {}) {
    this.options = resolveOptions(options);
    this.wallClock = driverOptions.initialWallClockTimeMs ?? Date.now();
    const collector = {
      send: (topic: string, key: Buffer | null, value: Buffer | null, timestamp: number, headers: Headers) =>
        this.append(topic, { key, value, timestamp, headers }),
    };
    this.graph = graphOf(topology).resolve(this.options.applicationId);
    const subtopologies = this.graph.subtopologies();
    // No database: RocksDB stores run in memory here (the same layers above the backend).
    this.stores = subtopologies.map(
      (nodes) =>
        new TaskStores({
          specs: this.graph.storesOf(nodes),
          context: { partition: 0, db: undefined, maxLoadedKeys: 0 },
          changelogTopic: (s) => this.graph.changelogTopic(s),
          collector,
        }),
    );
    this.tasks = subtopologies.map(
      (nodes, i) => new StreamTask({ id: `${i}_0`, nodes, config: this.options, collector, stores: this.stores[i], clock: () => this.wallClock }),
    );
    for (const task of this.tasks) for (const t of task.topics()) this.taskByTopic.set(t, task);
  }

  createInputTopic<K, V>(name: string, keySerde: Serializer<K>, valueSerde: Serializer<V>): TestInputTopic<K, V> {
    if (!this.taskByTopic.has(name))
      throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', `"${name}" is not a source topic of this topology`, {
        hint: `its sources are: ${[...this.taskByTopic.keys()].join(', ')}`,
      });
    return new TestInputTopic({
      name,
      keySerde,
      valueSerde,
      pipe: (topic, record) => this.pipe(topic, record),
      pipeMany: (topic, records) => this.pipeBatch(topic, records),
      now: () => this.wallClock,
    });
  }

  createOutputTopic<K, V>(name: string, keySerde: Deserializer<K>, valueSerde: Deserializer<V>): TestOutputTopic<K, V> {
    return new TestOutputTopic(name, keySerde, valueSerde, () => this.topics.get(name) ?? []);
  }

  /**
   * Prepares the sinks' serdes (e.g. registers Avro schemas), as KafkaStreams.start() does.
   * Needed only for serdes that talk to a registry; the built-in ones need nothing.
   */
  prepare(): Promise<void> {
    return this.graph.prepareSinks();
  }

  /** A state store of the topology, to read (or seed) in a test, as Kafka Streams' `getKeyValueStore`. */
  getKeyValueStore<K, V>(name: string): KeyValueStore<K, V> {
    for (const s of this.stores) {
      const store = s.typed<K, V>(name);
      if (store) return store;
    }
    throw new StreamingError('SA_ERR_USAGE', `this topology has no state store named "${name}"`, {
      hint: `its stores are: ${[...this.graph.stores.keys()].join(', ') || '(none)'}`,
    });
  }

  /** A window store of the topology (windowed aggregations), to read in a test. */
  getWindowStore<K, V>(name: string): WindowStore<K, V> {
    for (const s of this.stores) {
      const store = s.window<K, V>(name);
      if (store) return store;
    }
    throw new StreamingError('SA_ERR_USAGE', `this topology has no window store named "${name}"`, {
      hint: `its stores are: ${[...this.graph.stores.keys()].join(', ') || '(none)'}`,
    });
  }

  /** The dead-letter topic's name, or null when it is disabled. */
  deadLetterTopic(): string | null {
    return this.options.deadLetterTopic;
  }

  /** Moves the driver's clock (the default timestamp of piped records) forward. */
  advanceWallClockTime(ms: number): void {
    if (!(ms >= 0)) throw new StreamingError('SA_ERR_USAGE', `advanceWallClockTime(${ms}): the clock only moves forward`);
    if (this.closed) throw new StreamingError('SA_ERR_USAGE', 'the TopologyTestDriver is closed');
    this.wallClock += ms;
    // Wall-clock punctuators that came due fire now; what they forward is fed on as output.
    this.run(() => {
      for (const t of this.tasks) t.punctuateWallClock(this.wallClock);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.tasks) t.close();
    for (const s of this.stores) void s.close();
  }

  private pipe(topic: string, record: StoredRecord): void {
    this.pipeBatch(topic, [record]);
  }

  private pipeBatch(topic: string, records: readonly StoredRecord[]): void {
    if (this.closed) throw new StreamingError('SA_ERR_USAGE', 'the TopologyTestDriver is closed');
    this.run(() => this.pending.push(...records.map((record) => ({ topic, record }))));
  }

  /** Runs `start`, then everything it queued, then commits the stores (or rolls them back). */
  private run(start: () => void): void {
    try {
      start();
      // A commit after every piped record: caches flush (what they emit may feed other tasks), then the stores commit.
      do {
        while (this.pending.length > 0) {
          const next = this.pending.shift()!;
          const task = this.taskByTopic.get(next.topic)!;
          const log = this.log(next.topic);
          log.push(next.record);
          task.process({ topic: next.topic, partition: 0, offset: log.length - 1, ...next.record });
        }
        for (const t of this.tasks) t.flushStores();
      } while (this.pending.length > 0);
      for (const s of this.stores) s.commitInMemory();
    } catch (err) {
      for (const s of this.stores) s.abort();
      throw err;
    } finally {
      this.pending.length = 0; // a failed record leaves nothing behind for the next pipeInput
    }
  }

  private append(topic: string, record: StoredRecord): void {
    // Output to a topic the topology reads goes back in after the current record, as through a broker.
    if (this.taskByTopic.has(topic)) this.pending.push({ topic, record });
    else this.log(topic).push(record);
  }

  private log(topic: string): StoredRecord[] {
    let log = this.topics.get(topic);
    if (!log) this.topics.set(topic, (log = []));
    return log;
  }
}
