import { kafkaClientConfig } from '../../src/config';
import { rdkafkaClients, recordByRecordClients } from '../../src/kafka';
import { kafkaClientContract } from '../support/kafka-contract';
import { createTopic, uniqueName } from '../support/kafka';
import { useStack } from '../support/stack';

const config = useStack();
const setup = () => ({
  settings: kafkaClientConfig(config().kafka),
  createTopic: (name: string, partitions: number) => createTopic(config(), name, partitions),
  unique: uniqueName,
  patienceMs: 30_000,
});
// The default supplier consumes through the native batch reader on node-rdkafka's consumer (where it is built)…
kafkaClientContract('node-rdkafka on the real broker', () => ({ ...setup(), clients: rdkafkaClients }));
// …and falls back to node-rdkafka's own consume: both behave the same.
kafkaClientContract("node-rdkafka's own consume, record by record, on the real broker", () => ({ ...setup(), clients: recordByRecordClients }));
