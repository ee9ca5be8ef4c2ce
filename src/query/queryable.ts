/**
 * What the query server needs from a running instance, in one place: its stores and
 * their sub-topologies, the partition counts that place a key, the tasks it runs now,
 * whether it is ready, and who owns the tasks it does not run.
 */
import type { Registry } from 'prom-client';
import type { StoreSpec } from '../../state';
import { clusterInfo } from '../admin/cluster';
import type { LibrdkafkaConfig } from '../config';
import type { TopologyGraph } from '../streams/graph';
import type { TaskStores } from '../streams/task-stores';
import type { Claim } from './directory';

export interface StoreInfo {
  spec: StoreSpec;
  subtopology: number;
  changelog: string;
  sourceTopics: string[];
}

export interface InstanceView {
  instanceId: string;
  url: string;
  ready(): { ok: true } | { ok: false; why: string };
  localStores(taskId: string): TaskStores | undefined;
  localTasks(): string[];
  owner(taskId: string): Claim | undefined;
  metrics(): Registry;
}

export class Queryable {
  readonly stores = new Map<string, StoreInfo>();
  private partitionCounts = new Map<string, number>();

  constructor(graph: TopologyGraph, private readonly client: LibrdkafkaConfig, readonly instance: InstanceView) {
    graph.subtopologies().forEach((nodes, subtopology) => {
      const sourceTopics = nodes.flatMap((n) => (n.kind === 'source' ? [...n.topics] : []));
      for (const spec of graph.storesOf(nodes)) this.stores.set(spec.name, { spec, subtopology, changelog: graph.changelogTopic(spec.name), sourceTopics });
    });
  }

  /** Partitions of the store's sub-topology (its source topics are co-partitioned): a key's task is `<sub>_<murmur2 % n>`. */
  async partitions(store: StoreInfo): Promise<number> {
    const topic = store.sourceTopics[0]!;
    if (!this.partitionCounts.has(topic)) {
      const topics = (await clusterInfo(this.client, 10_000)).topics;
      this.partitionCounts = new Map([...topics].map(([name, t]) => [name, t.partitions]));
    }
    const n = this.partitionCounts.get(topic);
    if (!n) throw new Error(`source topic "${topic}" of store "${store.spec.name}" is unknown to the cluster`);
    return n;
  }
}
