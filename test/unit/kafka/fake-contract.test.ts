import { FakeKafka } from '../../support/fake-kafka';
import { kafkaClientContract } from '../../support/kafka-contract';
import { restoreConsumerContract } from '../../support/restore-consumer-contract';
import { restoreConsumerOver } from '../../../src/kafka';

let n = 0;
const kafka = new FakeKafka();
const setup = () => ({
  clients: kafka,
  settings: { 'bootstrap.servers': 'fake:0' },
  createTopic: async (name: string, partitions: number) => void kafka.broker.createTopic(name, partitions),
  unique: (prefix: string) => `${prefix}-${++n}`,
  patienceMs: 2_000,
});
kafkaClientContract('the in-memory fake', setup);
restoreConsumerContract('the in-memory fake, through restoreConsumerOver', () => ({
  ...setup(),
  restoreConsumer: async (settings) => restoreConsumerOver(await kafka.consumer(settings, { consumeTimeoutMs: 100 }), 'the fake has no batch reader'),
}));
