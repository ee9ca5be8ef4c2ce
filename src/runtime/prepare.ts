/**
 * The asynchronous work done outside the synchronous processing path: at start, the
 * internal topics are created and every sink serde is prepared (schema ids); per batch,
 * source deserializers fetch what the batch needs (writer schemas of new ids).
 */
import type { Message } from 'node-rdkafka';
import { createTopics } from '../admin/topics';
import type { Logger } from '../logger';
import type { TopologyGraph } from '../streams/graph';
import type { ResolvedStreamsConfig } from './streams-config';

export async function prepareTopology(graph: TopologyGraph, config: ResolvedStreamsConfig, log: Logger): Promise<void> {
  if (config.deadLetterTopic !== null) {
    try {
      const created = await createTopics(config.client, [{ name: config.deadLetterTopic, partitions: 1, replicationFactor: -1 }]);
      if (created.length > 0) log.info({ topic: config.deadLetterTopic }, 'created the dead-letter topic');
    } catch (err) {
      log.warn({ err, topic: config.deadLetterTopic }, 'could not create the dead-letter topic; records that cannot be read will fail to be written there');
    }
  }
  await graph.prepareSinks();
}

export async function prepareBatch(graph: TopologyGraph, batch: readonly Message[]): Promise<void> {
  for (const source of graph.sources()) {
    if (!source.keySerde.prepareBatch && !source.valueSerde.prepareBatch) continue;
    for (const topic of source.topics) {
      const records = batch.filter((m) => m.topic === topic);
      if (records.length === 0) continue;
      await source.keySerde.prepareBatch?.(topic, records.map((m) => (m.key === undefined || m.key === null ? null : Buffer.isBuffer(m.key) ? m.key : Buffer.from(m.key))));
      await source.valueSerde.prepareBatch?.(topic, records.map((m) => m.value ?? null));
    }
  }
}
