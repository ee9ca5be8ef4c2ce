/**
 * The asynchronous work done outside the synchronous processing path: at start, the
 * internal topics are created and every sink serde is prepared (schema ids); per batch,
 * source deserializers fetch what the batch needs (writer schemas of new ids).
 */
import type { ConsumedRecord, TopicSpec } from '../kafka';
import { StreamingError } from '../errors';
import type { Logger } from '../logger';
import type { TopologyGraph } from '../streams/internals/graph';
import type { ResolvedStreamsConfig } from './streams-config';

/** Topics and sinks, once the cluster is known to answer (KafkaStreams checks that first: checkReachable). */
export async function prepareTopology(graph: TopologyGraph, config: ResolvedStreamsConfig, log: Logger): Promise<void> {
  if (config.deadLetterTopic !== null) {
    try {
      const created = await config.clients.admin(config.client).createTopics([{ name: config.deadLetterTopic, partitions: 1, replicationFactor: -1 }], 15_000);
      if (created.length > 0) log.info({ topic: config.deadLetterTopic }, 'created the dead-letter topic');
    } catch (err) {
      log.warn({ err, topic: config.deadLetterTopic }, 'could not create the dead-letter topic; records that cannot be read will fail to be written there');
    }
  }
  await createInternalTopics(graph, config, log);
  await graph.prepareSinks();
}

/** One metadata request first, so an unreachable cluster is one clear error, not a chain of time-outs. */
export async function checkReachable(config: ResolvedStreamsConfig): Promise<void> {
  try {
    await config.clients.admin(config.client).clusterInfo(10_000);
  } catch (err) {
    throw new StreamingError(
      'SA_ERR_KAFKA_UNREACHABLE',
      `no Kafka broker answered at ${String(config.client['bootstrap.servers'])} within 10 s: ${(err as Error).message}`,
      {
        cause: err,
        hint: 'check STREAMING_KAFKA__BOOTSTRAP_SERVERS and the security settings, or start the local stack with `npm run stack -- up`',
      },
    );
  }
}

/**
 * Repartition topics: as many partitions as asked, else as the writing sub-topology's
 * inputs. Changelog topics: as many as their sub-topology's inputs (one per task), and
 * compacted — only the latest value of a key is needed to restore.
 */
async function createInternalTopics(graph: TopologyGraph, config: ResolvedStreamsConfig, log: Logger): Promise<void> {
  const internal = graph.internalTopics();
  const changelogs = graph.changelogTopics();
  const known = new Map([...(await config.clients.admin(config.client).clusterInfo(15_000)).topics].map(([name, t]) => [name, t.partitions]));
  checkCoPartitioned(graph, known);
  const inputPartitions = (upstream: readonly string[]): number => Math.max(1, ...upstream.map((u) => known.get(u) ?? 0));
  // In sub-topology order, so a repartition topic fed from another one sees its count.
  const specs: TopicSpec[] = internal.map((t) => {
    const partitions = t.partitions ?? inputPartitions(t.upstreamTopics);
    known.set(t.name, partitions);
    return { name: t.name, partitions, replicationFactor: -1 };
  });
  if (specs.length === 0 && changelogs.length === 0) return;
  for (const c of changelogs) specs.push({ name: c.name, partitions: inputPartitions(c.upstreamTopics), replicationFactor: -1, config: c.config });
  const created = await config.clients.admin(config.client).createTopics(specs, 15_000);
  if (created.length > 0) log.info({ topics: created }, 'created internal topics');
}

export async function prepareBatch(graph: TopologyGraph, batch: readonly ConsumedRecord[]): Promise<void> {
  for (const source of graph.sources()) {
    if (!source.keySerde.prepareBatch && !source.valueSerde.prepareBatch) continue;
    for (const topic of source.topics) {
      const records = batch.filter((m) => m.topic === topic);
      if (records.length === 0) continue;
      await source.keySerde.prepareBatch?.(
        topic,
        records.map((r) => r.key),
      );
      await source.valueSerde.prepareBatch?.(
        topic,
        records.map((r) => r.value),
      );
    }
  }
}

/**
 * A task reads the same partition number of every source topic of its sub-topology (a
 * stream joined with a table, merged streams): their partition counts must be equal, or
 * keys would meet the wrong partition. Topics that do not exist yet are left to the broker.
 */
function checkCoPartitioned(graph: TopologyGraph, partitions: ReadonlyMap<string, number>): void {
  for (const nodes of graph.subtopologies()) {
    const topics = nodes.flatMap((n) => (n.kind === 'source' && !n.internal ? [...n.topics] : []));
    const counts = new Map(topics.filter((t) => partitions.has(t)).map((t) => [t, partitions.get(t)!]));
    if (new Set(counts.values()).size > 1) {
      throw new StreamingError(
        'SA_ERR_TOPOLOGY_INVALID',
        `topics read by one sub-topology must have the same number of partitions: ${[...counts].map(([t, n]) => `${t} has ${n}`).join(', ')}`,
        {
          hint: "repartition() one side to the other's partition count, or recreate the topics co-partitioned",
        },
      );
    }
  }
}
