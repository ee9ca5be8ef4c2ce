/** The Producer interface on the in-memory broker (broker.ts), transactional when given a transactional.id. */
import {
  innermost,
  type ClientSettings,
  type Consumer,
  type Headers,
  type KafkaClientError,
  type Producer,
  type TopicPartitionOffset,
} from '../../../src/kafka';
import { FakeKafkaError, tpKey, type FakeBroker, type Txn } from './broker';
import { FakeConsumer } from './consumer';

const fenced = (): FakeKafkaError => new FakeKafkaError('Local: This instance has been fenced by a newer instance', -144, { isFatal: true });
const state = (what: string): FakeKafkaError => new FakeKafkaError(`Local: Erroneous state (${what})`, -172, { isFatal: true });

export class FakeProducer implements Producer {
  private readonly transactionalId: string | undefined;
  private txn: Txn | undefined;
  private ready = false;
  private connected = true;
  private readonly listeners: ((err: KafkaClientError) => void)[] = [];

  constructor(
    private readonly broker: FakeBroker,
    settings: ClientSettings,
    private readonly partitioner: 'murmur2' | 'crc32' = 'crc32',
  ) {
    const id = settings['transactional.id'];
    this.transactionalId = id === undefined ? undefined : String(id);
  }

  async initTransactions(): Promise<void> {
    this.broker.fault('initTransactions');
    if (this.transactionalId === undefined) throw state('initTransactions without transactional.id');
    this.broker.registerTransactional(this.transactionalId, this); // fences the previous producer of this id
    this.ready = true;
  }

  private checkFenced(): void {
    if (this.transactionalId !== undefined && this.broker.isFenced(this.transactionalId, this)) throw fenced();
  }

  async beginTransaction(): Promise<void> {
    this.broker.fault('beginTransaction');
    this.checkFenced();
    if (!this.ready || this.txn) throw state('beginTransaction');
    this.txn = { state: 'open', partitions: new Set(), offsets: new Map() };
  }

  produce(topic: string, partition: number | null, value: Buffer | null, key: Buffer | null, timestamp: number, headers: Headers = []): void {
    if (this.transactionalId !== undefined && !this.txn) throw state('produce outside a transaction');
    try {
      this.broker.append(topic, partition, key, value, timestamp, headers, this.txn, this.partitioner);
    } catch (err) {
      // librdkafka reports an unknown topic through the delivery report, and the transaction can then only abort.
      const e = err as FakeKafkaError;
      if (this.txn) this.txn.failed ??= new FakeKafkaError(e.message, e.code, { isTxnRequiresAbort: true });
      setImmediate(() => {
        for (const l of this.listeners) l(e);
      });
    }
  }

  poll(): void {}

  async sendOffsetsToTransaction(offsets: readonly TopicPartitionOffset[], consumer: Consumer): Promise<void> {
    this.broker.fault('sendOffsetsToTransaction');
    this.checkFenced();
    if (!this.txn) throw state('sendOffsetsToTransaction outside a transaction');
    const own = innermost(consumer);
    if (!(own instanceof FakeConsumer)) throw state('a consumer of another client supplier');
    // KIP-447: the group metadata fences a member the group no longer has (a zombie).
    if (own.generation() === undefined) throw new FakeKafkaError('Broker: Specified group generation id is not valid', 22, { isTxnRequiresAbort: true });
    const group = this.txn.offsets.get(own.groupId) ?? new Map<string, number>();
    for (const o of offsets) group.set(tpKey(o.topic, o.partition), o.offset);
    this.txn.offsets.set(own.groupId, group);
  }

  async commitTransaction(): Promise<void> {
    this.broker.fault('commitTransaction');
    this.checkFenced();
    const txn = this.txn;
    if (!txn) throw state('commitTransaction outside a transaction');
    if (txn.failed) throw txn.failed;
    this.broker.endTxn(txn, 'committed');
    this.txn = undefined;
  }

  async abortTransaction(): Promise<void> {
    this.broker.fault('abortTransaction');
    this.checkFenced();
    if (!this.txn) return;
    this.broker.endTxn(this.txn, 'aborted');
    this.txn = undefined;
  }

  async flush(): Promise<void> {}

  onDeliveryError(listener: (err: KafkaClientError) => void): void {
    this.listeners.push(listener);
  }

  isConnected(): boolean {
    return this.connected;
  }

  async disconnect(): Promise<void> {
    this.connected = false;
  }
}
