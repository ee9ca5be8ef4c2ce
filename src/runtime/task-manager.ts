/**
 * The tasks of this instance, made and dropped as partitions are assigned and revoked.
 * A task is one sub-topology × one partition number; a sub-topology with several
 * (co-partitioned) source topics gets one task per partition number, covering them all.
 * Each task remembers how far it has processed each of its partitions, and owns its
 * state stores, which outlive its processors: an abort rebuilds the processors and rolls
 * the stores back; only a revocation closes them.
 */
import type { TopicPartition, TopicPartitionOffset } from '../kafka';
import type { NodeSpec, TopologyGraph } from '../streams/internals/graph';
import { StreamTask, type FailureObserver } from '../streams/internals/stream-task';
import type { RecordCollector } from '../streams/internals/task-graph';
import { join } from 'node:path';
import type { StateDb, StoreMeter } from '../../state';
import type { RawRecord } from '../streams/internals/task-graph';
import { TaskStores, type RestoreTarget } from '../streams/internals/task-stores';
import type { ResolvedStreamsConfig } from './streams-config';

import { checkpointEnds, type CheckpointSource } from './checkpoint-guard';

interface RuntimeTask {
  id: string;
  nodes: NodeSpec[];
  task: StreamTask;
  stores: TaskStores;
  partitions: Set<string>;
  /** topic:partition → next offset to commit (last processed + 1). */
  processed: Map<string, number>;
  /** Every input partition of the task (its sub-topology's source topics at its partition number). */
  inputs: TopicPartition[];
  /** topic:partition → the offset this instance last committed, or found committed when it was assigned. */
  committed: Map<string, number>;
}

const tpKey = (topic: string, partition: number): string => `${topic}:${partition}`;

function parseKey(key: string): TopicPartition {
  const at = key.lastIndexOf(':');
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}

export interface TaskManagerOptions {
  graph: TopologyGraph;
  config: ResolvedStreamsConfig;
  /** Where the tasks' sinks write: the stream thread's current producer. */
  collector: RecordCollector;
  /** Told of every record an error policy dealt with (metrics). */
  observe: FailureObserver;
  /** The instance's RocksDB database, once opened (undefined without persistent stores). */
  stateDb: () => StateDb | undefined;
  meter?: StoreMeter;
}

export class TaskManager {
  private readonly tasks = new Map<string, RuntimeTask>();
  private readonly byPartition = new Map<string, RuntimeTask>();
  private readonly subtopologyOf = new Map<string, { id: number; nodes: NodeSpec[] }>();
  /** Whether any store loads keys before a batch (RocksDB stores declare prefetchKeys). */
  private readonly prefetching: boolean;

  private readonly graph: TopologyGraph;
  private readonly config: ResolvedStreamsConfig;
  private readonly collector: RecordCollector;
  private readonly observe: FailureObserver;
  private readonly stateDb: () => StateDb | undefined;
  private readonly meter: StoreMeter | undefined;

  constructor(o: TaskManagerOptions) {
    this.graph = o.graph;
    this.config = o.config;
    this.collector = o.collector;
    this.observe = o.observe;
    this.stateDb = o.stateDb;
    this.meter = o.meter;
    const graph = o.graph;
    this.prefetching = [...graph.stores.values()].some((st) => st.backend === 'rocksdb' && st.prefetchKeys !== undefined);
    graph.subtopologies().forEach((nodes, id) => {
      for (const n of nodes) if (n.kind === 'source') for (const t of n.topics) this.subtopologyOf.set(t, { id, nodes });
    });
  }

  assign(partitions: readonly TopicPartition[]): string[] {
    this.last = undefined;
    const created: string[] = [];
    for (const tp of partitions) {
      const sub = this.subtopologyOf.get(tp.topic);
      if (!sub) continue;
      const id = `${sub.id}_${tp.partition}`;
      let t = this.tasks.get(id);
      if (!t) {
        const context = { partition: tp.partition, db: this.stateDb(), maxLoadedKeys: this.config.storeMaxLoadedKeys, meter: this.meter };
        const stores = new TaskStores({
          specs: this.graph.storesOf(sub.nodes),
          context,
          changelogTopic: (s) => this.graph.changelogTopic(s),
          collector: this.collector,
          checkpointFile: join(this.config.stateDir, 'checkpoints', `${id}.json`),
        });
        const inputs = sub.nodes.flatMap((n) => (n.kind === 'source' ? n.topics.map((topic) => ({ topic, partition: tp.partition })) : []));
        t = {
          id,
          nodes: sub.nodes,
          stores,
          task: this.newTask(id, sub.nodes, stores),
          partitions: new Set(),
          processed: new Map(),
          inputs,
          committed: new Map(),
        };
        this.tasks.set(id, t);
        created.push(id);
      }
      t.partitions.add(tpKey(tp.topic, tp.partition));
      this.byPartition.set(tpKey(tp.topic, tp.partition), t);
    }
    return created;
  }

  /**
   * After an assignment: the group's committed offsets of the new tasks' inputs, the
   * starting point against which a later close decides whether it may checkpoint. If they
   * cannot be read, those tasks stay without one, and write no checkpoint.
   */
  async recordAssignedOffsets(source: CheckpointSource): Promise<void> {
    const missing = this.inputsWithoutCommitted();
    if (missing.length === 0) return;
    const committed = await source.committed(missing);
    for (const t of this.tasks.values()) {
      for (const tp of t.inputs) {
        const key = tpKey(tp.topic, tp.partition);
        if (!t.committed.has(key) && committed.has(key)) t.committed.set(key, committed.get(key)!);
      }
    }
  }

  /** Input partitions of tasks whose committed starting point is not known yet. */
  private inputsWithoutCommitted(): TopicPartition[] {
    return [...this.tasks.values()].flatMap((t) => t.inputs.filter((tp) => !t.committed.has(tpKey(tp.topic, tp.partition))));
  }

  /**
   * Forgets the partitions; closes tasks left with none. With a checkpoint source, each
   * closed task checkpoints its persistent stores when checkpoint-guard.ts finds that only
   * this instance wrote them. Returns the closed task ids, and those that wrote no checkpoint.
   */
  async revoke(partitions: readonly TopicPartition[], source?: CheckpointSource): Promise<{ closed: string[]; uncheckpointed: string[] }> {
    // A revocation may be a lost assignment: only tasks whose every changelog write comes with an offset commit can tell.
    const eligible = (t: RuntimeTask): boolean => this.config.eos && !t.task.hasWallClockPunctuators();
    this.last = undefined;
    const closing: RuntimeTask[] = [];
    for (const tp of partitions) {
      const key = tpKey(tp.topic, tp.partition);
      const t = this.byPartition.get(key);
      if (!t) continue;
      this.byPartition.delete(key);
      t.partitions.delete(key);
      t.processed.delete(key);
      if (t.partitions.size === 0) {
        this.tasks.delete(t.id);
        closing.push(t);
      }
    }
    const uncheckpointed = await this.closeTasks(closing, eligible, source);
    return { closed: closing.map((t) => t.id), uncheckpointed };
  }

  /** Closes the tasks; returns those with persistent stores that wrote no checkpoint. */
  private async closeTasks(tasks: readonly RuntimeTask[], eligible: (t: RuntimeTask) => boolean, source?: CheckpointSource): Promise<string[]> {
    const closing = tasks.map((t) => ({
      id: t.id,
      inputs: t.inputs,
      committed: t.committed,
      changelogs: t.stores.persistentChangelogs(),
      eligible: eligible(t),
    }));
    const ends = source ? await checkpointEnds(closing, source) : new Map<string, ReadonlyMap<string, number>>();
    let failure: unknown;
    for (const t of tasks) {
      t.task.close();
      await t.stores.close(ends.get(t.id)).catch((err: unknown) => (failure ??= err));
    }
    if (failure !== undefined) throw failure;
    return closing.filter((t) => t.changelogs.length > 0 && !ends.has(t.id)).map((t) => t.id);
  }

  /** Loads, per task, what its persistent stores will read while processing these records. */
  async prefetch(records: readonly RawRecord[]): Promise<void> {
    if (!this.prefetching) return; // no persistent store: nothing to load, no per-record look-up
    const byTask = new Map<RuntimeTask, RawRecord[]>();
    for (const r of records) {
      const t = this.byPartition.get(tpKey(r.topic, r.partition));
      if (!t?.stores.needsPrefetch) continue;
      let list = byTask.get(t);
      if (!list) byTask.set(t, (list = []));
      list.push(r);
    }
    await Promise.all([...byTask].map(([t, list]) => t.stores.prefetch(list.map((r) => ({ key: t.task.keyOf(r), timestamp: r.timestamp })))));
  }

  /** The partition of the previous record: batches come in runs of one partition, so most look-ups are skipped. */
  private last: { topic: string; partition: number; key: string; task: RuntimeTask | undefined } | undefined;

  /** Processes one consumed record in its task and records its offset as processed. */
  process(raw: Parameters<StreamTask['process']>[0]): void {
    let last = this.last;
    if (!last || last.partition !== raw.partition || last.topic !== raw.topic) {
      const key = tpKey(raw.topic, raw.partition);
      last = this.last = { topic: raw.topic, partition: raw.partition, key, task: this.byPartition.get(key) };
    }
    const t = last.task;
    if (!t) return; // a record fetched just before its partition was revoked: not ours any more
    t.task.process(raw);
    t.processed.set(last.key, raw.offset + 1);
  }

  /** Offsets to commit: every partition processed since the last commit. */
  offsetsToCommit(): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = [];
    for (const t of this.tasks.values()) {
      for (const [key, offset] of t.processed) out.push({ ...parseKey(key), offset });
    }
    return out;
  }

  /** The changelog partitions the given (new) tasks must restore before they process anything. */
  restoreTargets(taskIds: readonly string[]): (RestoreTarget & { taskId: string })[] {
    return taskIds.flatMap(
      (id) =>
        this.tasks
          .get(id)
          ?.stores.restoreTargets()
          .map((r) => ({ ...r, taskId: id })) ?? [],
    );
  }

  /** Why a task restores from scratch, per task, if it does (for the log). */
  checkpointProblems(taskIds: readonly string[]): Record<string, string> {
    return Object.fromEntries(
      taskIds.flatMap((id) => {
        const problem = this.tasks.get(id)?.stores.checkpointProblem();
        return problem ? [[id, problem]] : [];
      }),
    );
  }

  /** After each input batch: processors that hold records back emit them. */
  endBatch(): void {
    for (const t of this.tasks.values()) t.task.endBatch();
  }

  /** Commit protocol, before the Kafka commit: the stores' buffered writes go to their changelogs, and cached aggregates downstream. */
  flushStores(): void {
    for (const t of this.tasks.values()) t.task.flushStores();
  }

  /** After the Kafka commit: progress is committed, and the stores write their committed state. */
  async markCommitted(): Promise<void> {
    for (const t of this.tasks.values()) {
      for (const [key, offset] of t.processed) t.committed.set(key, offset);
      t.processed.clear();
    }
    await Promise.all([...this.tasks.values()].map((t) => t.stores.commit()));
  }

  /**
   * Drops all uncommitted progress: every task is closed dirty and made anew from its
   * suppliers, and its stores forget their uncommitted writes, as after an aborted
   * transaction (its records will be consumed again).
   */
  reset(): void {
    this.last = undefined;
    for (const t of this.tasks.values()) {
      t.task.close();
      t.stores.abort();
      t.task = this.newTask(t.id, t.nodes, t.stores);
      t.processed.clear();
    }
  }

  private newTask(id: string, nodes: readonly NodeSpec[], stores: TaskStores): StreamTask {
    return new StreamTask({ id, nodes, config: this.config, collector: this.collector, observe: this.observe, stores });
  }

  assignedPartitions(): TopicPartition[] {
    return [...this.byPartition.keys()].map(parseKey);
  }

  wallClockDue(now: number): boolean {
    for (const t of this.tasks.values()) if (t.task.wallClockDue(now)) return true;
    return false;
  }

  punctuateWallClock(now: number): void {
    for (const t of this.tasks.values()) t.task.punctuateWallClock(now);
  }

  /** The stores of a task this instance runs. */
  storesOf(taskId: string): TaskStores | undefined {
    return this.tasks.get(taskId)?.stores;
  }

  taskIds(): string[] {
    return [...this.tasks.keys()];
  }

  /**
   * Closes every task. With a source, and when this instance's final commit succeeded (it
   * owned its tasks then), each checkpoints as checkpoint-guard.ts allows. Returns the
   * tasks that wrote no checkpoint.
   */
  async closeAll(source?: CheckpointSource, finalCommitSucceeded = false): Promise<string[]> {
    this.last = undefined;
    const all = [...this.tasks.values()];
    this.tasks.clear();
    this.byPartition.clear();
    return this.closeTasks(all, () => finalCommitSucceeded, source);
  }
}
