/**
 * What the query server needs from a running instance, in one place: its stores and
 * their sub-topologies, the partition counts that place a key, the partitioner that
 * placed it, the tasks it runs now, whether it is ready, and who owns the tasks it does
 * not run.
 */
import type { StoreSpec } from '../../state';
import type { Admin } from '../kafka';
import type { InputPartitioner } from '../partitioner';
import type { TopologyGraph } from '../streams/internals/graph';
import type { TaskStores } from '../streams/internals/task-stores';
import type { Claim } from './directory';

export interface StoreInfo {
  spec: StoreSpec;
  subtopology: number;
  changelog: string;
  sourceTopics: string[];
  /** Source topics written by other producers (not the runtime's own repartition topics). */
  externalTopics: string[];
}

export interface InstanceView {
  instanceId: string;
  url: string;
  ready(): { ok: true } | { ok: false; why: string };
  localStores(taskId: string): TaskStores | undefined;
  localTasks(): string[];
  owner(taskId: string): Pick<Claim, 'instanceId' | 'url'> | undefined;
  /** Whether another stream thread of this instance runs the task (its queries are forwarded inside the instance, but it is this instance's). */
  runsInSibling?(taskId: string): boolean;
  /** Whether records of `topic` were seen off the declared partitioner. */
  partitionerMismatch(topic: string): boolean;
}

const COUNTS_MAX_AGE_MS = 30_000;

/** What the query server reads an instance through, by name. */
export interface QueryableOptions {
  graph: TopologyGraph;
  admin: Admin;
  instance: InstanceView;
  /** The partitioner the input topics were written with (default murmur2). */
  declared?: InputPartitioner;
  /** The partition count of a topic; default, the cluster's metadata. */
  partitionsOf?: (topic: string) => Promise<number | undefined>;
}

export class Queryable {
  readonly instance: InstanceView;
  private readonly admin: Admin;
  private readonly declared: InputPartitioner;
  private readonly partitionsOf: ((topic: string) => Promise<number | undefined>) | undefined;
  readonly stores = new Map<string, StoreInfo>();
  private partitionCounts = new Map<string, number>();
  /** When the counts were read: partitions can be added, so they are read again after a while. */
  private countsAt = 0;

  constructor({ graph, admin, instance, declared = 'murmur2', partitionsOf }: QueryableOptions) {
    this.instance = instance;
    this.admin = admin;
    this.declared = declared;
    this.partitionsOf = partitionsOf;
    graph.subtopologies().forEach((nodes, subtopology) => {
      const sources = nodes.flatMap((n) => (n.kind === 'source' ? [n] : []));
      const sourceTopics = sources.flatMap((n) => [...n.topics]);
      const externalTopics = sources.filter((n) => !n.internal).flatMap((n) => [...n.topics]);
      for (const spec of graph.storesOf(nodes))
        this.stores.set(spec.name, { spec, subtopology, changelog: graph.changelogTopic(spec.name), sourceTopics, externalTopics });
    });
  }

  /** Partitions of the store's sub-topology (its source topics are co-partitioned): a key's task is `<sub>_<partition>`. */
  async partitions(store: StoreInfo): Promise<number> {
    const topic = store.sourceTopics[0]!;
    if (this.partitionsOf) this.partitionCounts.set(topic, (await this.partitionsOf(topic)) ?? 0);
    else if (!this.partitionCounts.has(topic) || Date.now() - this.countsAt > COUNTS_MAX_AGE_MS) {
      const topics = (await this.admin.clusterInfo(10_000)).topics;
      this.partitionCounts = new Map([...topics].map(([name, t]) => [name, t.partitions]));
      this.countsAt = Date.now();
    }
    const n = this.partitionCounts.get(topic);
    if (!n) throw new Error(`source topic "${topic}" of store "${store.spec.name}" is unknown to the cluster`);
    return n;
  }

  /**
   * The partitioner that placed the store's keys: the runtime's own (murmur2) for
   * repartition topics; else the declared one, unless records were seen elsewhere.
   */
  partitionerOf(store: StoreInfo): InputPartitioner {
    if (store.externalTopics.length === 0) return 'murmur2';
    return store.externalTopics.some((t) => this.instance.partitionerMismatch(t)) ? 'unknown' : this.declared;
  }
}
