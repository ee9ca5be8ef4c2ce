/**
 * The adapter to node-rdkafka: the only code of the project outside tools and tests that
 * imports it. Everything else — the runtime, the query directory, the fan-out, the
 * generator, the verifier — uses the interfaces in ../clients.ts through `rdkafkaClients`.
 */
import type { KafkaClientSupplier } from '../clients';
import { RdKafkaAdmin } from './admin';
import { connectRestoreConsumer } from './batch-consumer';
import { connectConsumer } from './consumer';
import { connectProducer } from './producer';

export { JAVA_PARTITIONER } from './producer';
export { RdKafkaAdmin } from './admin';

/** The default client supplier: librdkafka through node-rdkafka, with the native batch readers where they are built. */
export const rdkafkaClients: KafkaClientSupplier = {
  consumer: connectConsumer,
  restoreConsumer: connectRestoreConsumer,
  producer: connectProducer,
  admin: (settings) => new RdKafkaAdmin(settings),
};

/** node-rdkafka without the native batch readers: one object per record (benchmarks' before, the contract's second run). */
export const recordByRecordClients: KafkaClientSupplier = {
  consumer: (settings, hooks) => connectConsumer(settings, hooks, { batch: false }),
  producer: connectProducer,
  admin: (settings) => new RdKafkaAdmin(settings),
};
