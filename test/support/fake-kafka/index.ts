/**
 * A KafkaClientSupplier on an in-memory broker, for the runtime's broker-free tests:
 *
 *   const kafka = new FakeKafka();
 *   kafka.broker.createTopic('in', 2);
 *   new KafkaStreams(topology, { applicationId: 'app', kafka: { 'bootstrap.servers': 'fake:0' }, clientSupplier: kafka });
 */
import type { Admin, ClientSettings, ClusterInfo, ConsumerHooks, KafkaClientSupplier, ProducerOptions, TopicSpec } from '../../../src/kafka';
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

  async producer(settings: ClientSettings, options: ProducerOptions = {}): Promise<FakeProducer> {
    const p = new FakeProducer(this.broker, settings, options.javaPartitioner ? 'murmur2' : 'crc32');
    this.producers.push(p);
    return p;
  }

  admin(_settings: ClientSettings): Admin {
    const broker = this.broker;
    return {
      async clusterInfo(): Promise<ClusterInfo> {
        return broker.clusterInfo();
      },
      async createTopics(topics: readonly TopicSpec[]): Promise<string[]> {
        return topics.filter((t) => broker.createTopic(t.name, t.partitions)).map((t) => t.name);
      },
    };
  }
}
