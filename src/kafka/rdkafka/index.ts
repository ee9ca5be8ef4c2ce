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

/** The default client supplier: librdkafka through node-rdkafka. */
export const rdkafkaClients: KafkaClientSupplier = {
  consumer: connectConsumer,
  restoreConsumer: connectRestoreConsumer,
  producer: connectProducer,
  admin: (settings) => new RdKafkaAdmin(settings),
};
