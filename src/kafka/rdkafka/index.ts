/**
 * The adapter to node-rdkafka: the only code of the engine that imports it. Other tiers
 * that need the library's own API (the fan-out's consumers, the load generator) build
 * their clients with `rdkafkaConsumer` / `rdkafkaProducer`, so settings are passed
 * without casts in one place.
 */
import Kafka from 'node-rdkafka';
import type { KafkaClientSupplier } from '../clients';
import type { ClientSettings } from '../types';
import { RdKafkaAdmin } from './admin';
import { connectConsumer } from './consumer';
import { connectProducer, JAVA_PARTITIONER } from './producer';

export { JAVA_PARTITIONER } from './producer';
export { promised } from './promised';
export { asRecord } from './consumer';

/** The default client supplier: librdkafka through node-rdkafka. */
export const rdkafkaClients: KafkaClientSupplier = {
  consumer: connectConsumer,
  producer: connectProducer,
  admin: (settings) => new RdKafkaAdmin(settings),
};

/** node-rdkafka's own consumer, for code that needs its event API (not connected yet). */
export function rdkafkaConsumer(settings: ClientSettings, topicSettings: Record<string, string | number | boolean> = {}): Kafka.KafkaConsumer {
  return new Kafka.KafkaConsumer(settings as Kafka.ConsumerGlobalConfig, topicSettings as Kafka.ConsumerTopicConfig);
}

/** node-rdkafka's own producer (not connected yet); `javaPartitioner` places keys as Java clients do. */
export function rdkafkaProducer(settings: ClientSettings, javaPartitioner = false): Kafka.Producer {
  return new Kafka.Producer(settings as Kafka.ProducerGlobalConfig, javaPartitioner ? JAVA_PARTITIONER : {});
}

/** node-rdkafka's own types, for the code that uses its API through the factories above. */
export type * as RdKafka from 'node-rdkafka';
