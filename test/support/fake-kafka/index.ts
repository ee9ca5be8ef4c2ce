/**
 * A KafkaClientSupplier on an in-memory broker, for the runtime's broker-free tests:
 *
 *   const kafka = new FakeKafka();
 *   kafka.broker.createTopic('in', 2);
 *   new KafkaStreams(topology, { applicationId: 'app', kafka: { 'bootstrap.servers': 'fake:0' }, clientSupplier: kafka });
 */
import type { Admin, ClientSettings, ClusterInfo, ConsumerHooks, KafkaClientSupplier, TopicSpec } from '../../../src/kafka';
import { FakeBroker } from './broker';
import { FakeConsumer } from './consumer';
import { FakeProducer } from './producer';

export { FakeBroker, FakeKafkaError } from './broker';
export { FakeConsumer } from './consumer';
export { FakeProducer } from './producer';

export class FakeKafka implements KafkaClientSupplier {
  readonly consumers: FakeConsumer[] = [];
  readonly producers: FakeProducer[] = [];

  constructor(readonly broker = new FakeBroker()) {}

  async consumer(settings: ClientSettings, hooks: ConsumerHooks): Promise<FakeConsumer> {
    const c = new FakeConsumer(this.broker, settings, hooks);
    this.consumers.push(c);
    return c;
  }

  async producer(settings: ClientSettings): Promise<FakeProducer> {
    const p = new FakeProducer(this.broker, settings);
    this.producers.push(p);
    return p;
  }

  admin(_settings: ClientSettings): Admin {
    const broker = this.broker;
    return {
      async clusterInfo(): Promise<ClusterInfo> {
        return {
          brokers: [{ id: 1, host: 'fake', port: 0 }],
          topics: new Map([...broker.topics].map(([name, parts]) => [name, { partitions: parts.length, replicas: 1 }])),
        };
      },
      async createTopics(topics: readonly TopicSpec[]): Promise<string[]> {
        return topics.filter((t) => broker.createTopic(t.name, t.partitions)).map((t) => t.name);
      },
    };
  }
}
