import { kafkaClientConfig } from '../../src/config';
import { rdkafkaClients } from '../../src/kafka';
import { kafkaClientContract } from '../support/kafka-contract';
import { createTopic, uniqueName } from '../support/kafka';
import { useStack } from '../support/stack';

const config = useStack();
kafkaClientContract('node-rdkafka on the real broker', () => ({
  clients: rdkafkaClients,
  settings: kafkaClientConfig(config().kafka),
  createTopic: (name, partitions) => createTopic(config(), name, partitions),
  unique: uniqueName,
  patienceMs: 30_000,
}));
