import { FakeKafka } from '../../support/fake-kafka';
import { kafkaClientContract } from '../../support/kafka-contract';

let n = 0;
const kafka = new FakeKafka();
kafkaClientContract('the in-memory fake', () => ({
  clients: kafka,
  settings: { 'bootstrap.servers': 'fake:0' },
  createTopic: async (name, partitions) => void kafka.broker.createTopic(name, partitions),
  unique: (prefix) => `${prefix}-${++n}`,
  patienceMs: 2_000,
}));
