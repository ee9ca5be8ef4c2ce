/**
 * The producer every task of this process writes through (one per process, as with
 * Kafka Streams' exactly_once_v2). Under exactly-once it is transactional, with a
 * transactional.id stable per instance; under at-least-once it is idempotent only and
 * offsets are committed by the consumer after a flush.
 */
import Kafka, { type KafkaConsumer, type LibrdKafkaError, type TopicPartitionOffset } from 'node-rdkafka';
import { StreamingError } from '../errors';
import type { Headers } from '../streams/record';
import type { RecordCollector } from '../streams/task-graph';
import { JAVA_PARTITIONER } from '../config/clients';
import type { ResolvedStreamsConfig } from './streams-config';
import { TransactionState } from './transaction-state';
import { classify, txnError, withRetries } from './txn-errors';

const QUEUE_FULL = -184;
const MSG_SIZE_TOO_LARGE = 10;
/** Reports for records purged by an abort: expected, not a failure of the next transaction. */
const PURGED = new Set([-151, -152]);

type Cb = (err: LibrdKafkaError | null | undefined) => void;
const promised = (fn: (cb: Cb) => void): Promise<void> => new Promise((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));

export class StreamsProducer implements RecordCollector {
  readonly txn = new TransactionState();
  private readonly producer: Kafka.Producer;
  private deliveryError: LibrdKafkaError | undefined;
  private beginning: Promise<void> | undefined;

  constructor(private readonly config: ResolvedStreamsConfig, generation: number) {
    const eos = config.eos;
    const settings: Record<string, string | number | boolean> = {
      ...config.client,
      'client.id': `${config.applicationId}-${config.instanceId}-producer-${generation}`,
      'enable.idempotence': true,
      acks: 'all',
      'linger.ms': 5,
      'batch.num.messages': 10_000,
      'queue.buffering.max.messages': 1_000_000,
      dr_cb: true,
      // Only failures need a report (they fail the transaction); a report per record costs a JS callback each.
      'delivery.report.only.error': true,
      ...(eos ? {
        'transactional.id': `${config.applicationId}-${config.instanceId}`,
        'transaction.timeout.ms': config.transactionTimeoutMs,
        // librdkafka requires both below the transaction timeout.
        'message.timeout.ms': config.transactionTimeoutMs,
        'socket.timeout.ms': Math.max(1000, Math.min(60_000, config.transactionTimeoutMs - 1000)),
      } : {}),
      ...config.producerOverrides,
    };
    this.producer = new Kafka.Producer(settings as Kafka.ProducerGlobalConfig, JAVA_PARTITIONER);
    this.producer.on('delivery-report', (err) => {
      if (err && !PURGED.has(err.code) && !this.deliveryError) this.deliveryError = err;
    });
  }

  async init(): Promise<void> {
    this.txn.to('initializing');
    try {
      await promised((cb) => this.producer.connect({ timeout: 30_000 }, (err) => cb(err)));
      this.producer.setPollInterval(20);
      if (this.config.eos) await withRetries('initTransactions', Date.now() + 60_000, () => promised((cb) => this.producer.initTransactions(30_000, cb)));
      this.txn.to('ready');
    } catch (err) {
      this.txn.to('fatal');
      throw err instanceof StreamingError ? err : txnError('connecting the producer', err, 'fatal');
    }
  }

  /**
   * Opens a transaction if none is open. The thread starts the next one right after a
   * commit (beginTransaction is a round trip through libuv's thread pool) and awaits it
   * before processing; a second call meanwhile waits for the same begin.
   */
  begin(): Promise<void> {
    if (this.beginning) return this.beginning;
    if (!this.txn.is('ready')) return Promise.resolve();
    const beginning = this.doBegin().finally(() => {
      this.beginning = undefined;
    });
    beginning.catch(() => undefined); // the caller observes it; a prestarted begin nobody awaits must not be unhandled
    this.beginning = beginning;
    return beginning;
  }

  private async doBegin(): Promise<void> {
    this.deliveryError = undefined;
    if (this.config.eos) {
      try {
        await promised((cb) => this.producer.beginTransaction(cb));
      } catch (err) {
        this.txn.to('fatal');
        throw txnError('beginTransaction', err, 'fatal');
      }
    }
    this.txn.to('in_transaction');
  }

  inTransaction(): boolean {
    return this.txn.is('in_transaction');
  }

  send(topic: string, key: Buffer | null, value: Buffer | null, timestamp: number, headers: Headers, partition?: number): void {
    if (!this.txn.is('in_transaction')) throw new StreamingError('SA_ERR_TXN_STATE', `a record for "${topic}" was sent outside a transaction (state ${this.txn.state})`);
    const rdHeaders = headers.length === 0 ? undefined : headers.map((h) => ({ [h.key]: h.value }));
    for (let attempt = 0; ; attempt++) {
      try {
        this.producer.produce(topic, partition ?? null, value, key, timestamp, undefined, rdHeaders);
        return;
      } catch (err) {
        const code = (err as LibrdKafkaError).code;
        if (code === QUEUE_FULL && attempt < 10) {
          this.producer.poll(); // serves delivery reports, which may free queue space
          continue;
        }
        throw this.sendError(topic, err, code);
      }
    }
  }

  /** A record the broker can never take is the production handler's call; anything else ends the transaction. */
  private sendError(topic: string, err: unknown, code: number): StreamingError {
    const message = err instanceof Error ? err.message : String(err);
    if (code === MSG_SIZE_TOO_LARGE) return new StreamingError('SA_ERR_PRODUCTION_FAILED', `a record for "${topic}" is larger than the producer allows: ${message}`, { cause: err });
    return txnError(`producing to "${topic}"`, err, classify(err) === 'fatal' ? 'fatal' : 'abortable');
  }

  /**
   * Steps 2-4 of the commit protocol (see commit.ts): the offsets into the transaction
   * with the consumer's group metadata, then commitTransaction (which flushes). Under
   * at-least-once: flush, then a synchronous offset commit by the consumer.
   */
  async commit(offsets: TopicPartitionOffset[], consumer: KafkaConsumer): Promise<void> {
    await this.beginning?.catch(() => undefined);
    this.txn.to('committing');
    const deadline = Date.now() + this.config.transactionTimeoutMs;
    try {
      if (this.config.eos) {
        // commitTransaction flushes the outstanding records itself, and fails (abortable)
        // if any of them was not delivered: no separate flush round before the offsets.
        if (offsets.length > 0) await withRetries('sendOffsetsToTransaction', deadline, () => this.unlessClosed((cb) => this.producer.sendOffsetsToTransaction(offsets, consumer, this.config.transactionTimeoutMs, cb)));
        await withRetries('commitTransaction', deadline, () => this.unlessClosed((cb) => this.producer.commitTransaction(this.config.transactionTimeoutMs, cb)));
      } else {
        await withRetries('flush', deadline, () => promised((cb) => this.producer.flush(this.config.transactionTimeoutMs, cb)));
        const failed = this.deliveryError;
        if (failed) throw txnError('delivering a produced record', failed, 'abortable');
        if (offsets.length > 0) try {
          consumer.commitSync(offsets);
        } catch (err) {
          throw txnError('committing offsets', err, 'abortable');
        }
      }
      this.txn.to('ready');
    } catch (err) {
      if (err instanceof StreamingError && err.code === 'SA_ERR_TXN_FATAL') this.txn.to('fatal');
      throw err;
    }
  }

  /** Aborts the open transaction; waits for in-flight records first (librdkafka#4849). */
  async abort(): Promise<void> {
    await this.beginning?.catch(() => undefined);
    if (this.txn.is('ready', 'fatal', 'closed', 'uninitialized')) return;
    this.txn.to('aborting');
    try {
      await promised((cb) => this.producer.flush(this.config.transactionTimeoutMs, cb)).catch(() => undefined);
      if (this.config.eos) await withRetries('abortTransaction', Date.now() + this.config.transactionTimeoutMs, () => this.unlessClosed((cb) => this.producer.abortTransaction(this.config.transactionTimeoutMs, cb)));
      this.deliveryError = undefined;
      this.txn.to('ready');
    } catch (err) {
      this.txn.to('fatal');
      throw err instanceof StreamingError ? err : txnError('abortTransaction', err, 'fatal');
    }
  }

  /**
   * A transactional call, unless close() came first (a close timeout): librdkafka calls on
   * a handle being destroyed would block it, and the process, for good.
   */
  private unlessClosed(fn: (cb: Cb) => void): Promise<void> {
    if (this.txn.is('closed')) return Promise.reject(txnError('a transactional call', new Error('the producer was closed (close timeout)'), 'fatal'));
    return promised(fn);
  }

  async close(): Promise<void> {
    await this.beginning?.catch(() => undefined);
    if (this.txn.is('closed')) return;
    this.txn.to('closed');
    if (!this.producer.isConnected()) return;
    await new Promise<void>((resolve) => this.producer.disconnect(5_000, () => resolve()));
  }
}
