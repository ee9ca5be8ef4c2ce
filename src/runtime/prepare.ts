/**
 * The asynchronous work done outside the synchronous processing path: at start, the
 * internal topics are created and every sink serde is prepared (schema ids); per batch,
 * source deserializers fetch what the batch needs (writer schemas of new ids).
 */
import type { Message } from 'node-rdkafka';
import { clusterInfo } from '../admin/cluster';
import { createTopics, type TopicSpec } from '../admin/topics';
import { StreamingError } from '../errors';
import type { Logger } from '../logger';
import type { TopologyGraph } from '../streams/graph';
import { keyBytes } from './consumer';
import type { ResolvedStreamsConfig } from './streams-config';

export async function prepareTopology(graph: TopologyGraph, config: ResolvedStreamsConfig, log: Logger): Promise<void> {
  await checkReachable(config);
  if (config.deadLetterTopic !== null) {
    try {
      const created = await createTopics(config.client, [{ name: config.deadLetterTopic, partitions: 1, replicationFactor: -1 }]);
      if (created.length > 0) log.info({ topic: config.deadLetterTopic }, 'created the dead-letter topic');
    } catch (err) {
      log.warn({ err, topic: config.deadLetterTopic }, 'could not create the dead-letter topic; records that cannot be read will fail to be written there');
    }
  }
  await createInternalTopics(graph, config, log);
  await graph.prepareSinks();
}

/** One metadata request first, so an unreachable cluster is one clear error, not a chain of time-outs. */
async function checkReachable(config: ResolvedStreamsConfig): Promise<void> {
  try {
    await clusterInfo(config.client, 10_000);
  } catch (err) {
    throw new StreamingError('SA_ERR_KAFKA_UNREACHABLE', `no Kafka broker answered at ${String(config.client['bootstrap.servers'])} within 10 s: ${(err as Error).message}`, {
      cause: err,
      hint: 'check STREAMING_KAFKA__BOOTSTRAP_SERVERS and the security settings, or start the local stack with `npm run stack -- up`',
    });
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
  if (internal.length === 0 && changelogs.length === 0) return;
  const known = new Map([...(await clusterInfo(config.client, 15_000)).topics].map(([name, t]) => [name, t.partitions]));
  const inputPartitions = (upstream: readonly string[]): number => Math.max(1, ...upstream.map((u) => known.get(u) ?? 0));
  // In sub-topology order, so a repartition topic fed from another one sees its count.
  const specs: TopicSpec[] = internal.map((t) => {
    const partitions = t.partitions ?? inputPartitions(t.upstreamTopics);
    known.set(t.name, partitions);
    return { name: t.name, partitions, replicationFactor: -1 };
  });
  for (const c of changelogs) specs.push({ name: c.name, partitions: inputPartitions(c.upstreamTopics), replicationFactor: -1, config: c.config });
  const created = await createTopics(config.client, specs);
  if (created.length > 0) log.info({ topics: created }, 'created internal topics');
}

export async function prepareBatch(graph: TopologyGraph, batch: readonly Message[]): Promise<void> {
  for (const source of graph.sources()) {
    if (!source.keySerde.prepareBatch && !source.valueSerde.prepareBatch) continue;
    for (const topic of source.topics) {
      const records = batch.filter((m) => m.topic === topic);
      if (records.length === 0) continue;
      await source.keySerde.prepareBatch?.(topic, records.map(keyBytes));
      await source.valueSerde.prepareBatch?.(topic, records.map((m) => m.value ?? null));
    }
  }
}
