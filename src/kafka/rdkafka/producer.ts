/** The Producer interface over node-rdkafka's Producer. */
import Kafka from 'node-rdkafka';
import { StreamingError } from '../../errors';
import { innermost, type Consumer, type Producer, type ProducerOptions } from '../clients';
import type { ClientSettings, Headers, KafkaClientError, TopicPartitionOffset } from '../types';
import { RdKafkaConsumer } from './consumer';
import { promised } from './promised';

/**
 * Java's partitioner (murmur2) must be given as the topic configuration (node-rdkafka's
 * second argument): in the global configuration it is silently lost, because
 * node-rdkafka replaces the default topic configuration with its own.
 */
export const JAVA_PARTITIONER: Record<string, string> = { partitioner: 'murmur2_random' };

export async function connectProducer(settings: ClientSettings, options: ProducerOptions = {}): Promise<RdKafkaProducer> {
  const producer = new Kafka.Producer({ ...settings, dr_cb: true } as Kafka.ProducerGlobalConfig, options.javaPartitioner ? JAVA_PARTITIONER : {});
  const adapter = new RdKafkaProducer(producer);
  await promised<unknown>((cb) => producer.connect({ timeout: options.connectTimeoutMs ?? 30_000 }, cb));
  producer.setPollInterval(options.pollIntervalMs ?? 20);
  return adapter;
}

export class RdKafkaProducer implements Producer {
  private readonly deliveryListeners: ((err: KafkaClientError) => void)[] = [];

  constructor(readonly client: Kafka.Producer) {
    client.on('delivery-report', (err) => {
      if (err) for (const l of this.deliveryListeners) l(err as KafkaClientError);
    });
  }

  initTransactions(timeoutMs: number): Promise<void> {
    return promised<void>((cb) => this.client.initTransactions(timeoutMs, cb));
  }

  beginTransaction(): Promise<void> {
    return promised<void>((cb) => this.client.beginTransaction(cb));
  }

  produce(topic: string, partition: number | null, value: Buffer | null, key: Buffer | null, timestamp: number, headers?: Headers): void {
    const rdHeaders = headers === undefined || headers.length === 0 ? undefined : headers.map((h) => ({ [h.key]: h.value }));
    this.client.produce(topic, partition, value, key, timestamp, undefined, rdHeaders);
  }

  poll(): void {
    this.client.poll();
  }

  sendOffsetsToTransaction(offsets: readonly TopicPartitionOffset[], consumer: Consumer, timeoutMs: number): Promise<void> {
    const own = innermost(consumer);
    if (!(own instanceof RdKafkaConsumer)) {
      const hint = 'a supplier that wraps the node-rdkafka clients must set `inner` on its consumers to the consumer it wraps';
      return Promise.reject(
        new StreamingError('SA_ERR_STREAMS_CONFIG', 'sendOffsetsToTransaction was given a consumer that is not, and does not wrap, a node-rdkafka consumer', {
          hint,
        }),
      );
    }
    return promised<void>((cb) => this.client.sendOffsetsToTransaction([...offsets], own.client, timeoutMs, cb));
  }

  commitTransaction(timeoutMs: number): Promise<void> {
    return promised<void>((cb) => this.client.commitTransaction(timeoutMs, cb));
  }

  abortTransaction(timeoutMs: number): Promise<void> {
    return promised<void>((cb) => this.client.abortTransaction(timeoutMs, cb));
  }

  flush(timeoutMs: number): Promise<void> {
    return promised<void>((cb) => this.client.flush(timeoutMs, cb));
  }

  onDeliveryError(listener: (err: KafkaClientError) => void): void {
    this.deliveryListeners.push(listener);
  }

  isConnected(): boolean {
    return this.client.isConnected();
  }

  disconnect(timeoutMs: number): Promise<void> {
    if (!this.client.isConnected()) return Promise.resolve();
    return new Promise((resolve) => this.client.disconnect(timeoutMs, () => resolve()));
  }
}
