/**
 * The producer every task of this process writes through (one per process, as with
 * Kafka Streams' exactly_once_v2). Under exactly-once it is transactional, with a
 * transactional.id stable per instance; under at-least-once it is idempotent only and
 * offsets are committed by the consumer after a flush.
 */
import { ERR, type Consumer, type KafkaClientError, type Producer, type TopicPartitionOffset } from '../kafka';
import { StreamingError } from '../errors';
import type { Headers } from '../streams/processor-api/record';
import type { RecordCollector } from '../streams/internals/task-graph';
import type { ResolvedStreamsConfig } from './streams-config';
import { TransactionState } from './transaction-state';
import { classify, txnError, withRetries } from './txn-errors';

/** Reports for records purged by an abort: expected, not a failure of the next transaction. */
const PURGED = new Set<number>([ERR.PURGE_INFLIGHT, ERR.PURGE_QUEUE]);

export class StreamsProducer implements RecordCollector {
  readonly txn = new TransactionState();
  private producer: Producer | undefined;
  private readonly settings: Record<string, string | number | boolean>;
  private deliveryError: KafkaClientError | undefined;
  private beginning: Promise<void> | undefined;

  constructor(
    private readonly config: ResolvedStreamsConfig,
    generation: number,
  ) {
    const eos = config.eos;
    this.settings = {
      ...config.client,
      'client.id': `${config.applicationId}-${config.instanceId}-producer-${generation}`,
      'enable.idempotence': true,
      acks: 'all',
      'linger.ms': 5,
      'batch.num.messages': 10_000,
      'queue.buffering.max.messages': 1_000_000,
      // Only failures need a report (they fail the transaction); a report per record costs a JS callback each.
      'delivery.report.only.error': true,
      ...(eos
        ? {
            'transactional.id': `${config.applicationId}-${config.instanceId}`,
            'transaction.timeout.ms': config.transactionTimeoutMs,
            // librdkafka requires both below the transaction timeout.
            'message.timeout.ms': config.transactionTimeoutMs,
            'socket.timeout.ms': Math.max(1000, Math.min(60_000, config.transactionTimeoutMs - 1000)),
          }
        : {}),
      ...config.producerOverrides,
    };
  }

  /** The connected client; only called once init() connected it. */
  private get client(): Producer {
    if (!this.producer) throw new StreamingError('SA_ERR_TXN_STATE', `the producer is not connected (state ${this.txn.state})`);
    return this.producer;
  }

  async init(): Promise<void> {
    this.txn.to('initializing');
    try {
      const producer = await this.config.clients.producer(this.settings, { javaPartitioner: true, pollIntervalMs: 20 });
      this.producer = producer;
      producer.onDeliveryError((err) => {
        if (!PURGED.has(err.code) && !this.deliveryError) this.deliveryError = err;
      });
      if (this.config.eos) await withRetries('initTransactions', Date.now() + 60_000, () => producer.initTransactions(30_000));
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
        await this.client.beginTransaction();
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
    if (!this.txn.is('in_transaction'))
      throw new StreamingError('SA_ERR_TXN_STATE', `a record for "${topic}" was sent outside a transaction (state ${this.txn.state})`);
    for (let attempt = 0; ; attempt++) {
      try {
        this.client.produce(topic, partition ?? null, value, key, timestamp, headers);
        return;
      } catch (err) {
        const code = (err as KafkaClientError).code;
        if (code === ERR.QUEUE_FULL && attempt < 10) {
          this.client.poll(); // serves delivery reports, which may free queue space
          continue;
        }
        throw this.sendError(topic, err, code);
      }
    }
  }

  /** A record the broker can never take is the production handler's call; anything else ends the transaction. */
  private sendError(topic: string, err: unknown, code: number): StreamingError {
    const message = err instanceof Error ? err.message : String(err);
    if (code === ERR.MSG_SIZE_TOO_LARGE)
      return new StreamingError('SA_ERR_PRODUCTION_FAILED', `a record for "${topic}" is larger than the producer allows: ${message}`, { cause: err });
    return txnError(`producing to "${topic}"`, err, classify(err) === 'fatal' ? 'fatal' : 'abortable');
  }

  /**
   * Steps 2-4 of the commit protocol (see commit.ts): the offsets into the transaction
   * with the consumer's group metadata, then commitTransaction (which flushes). Under
   * at-least-once: flush, then a synchronous offset commit by the consumer.
   */
  async commit(offsets: TopicPartitionOffset[], consumer: Consumer): Promise<{ offsetsMs: number }> {
    await this.beginning?.catch(() => undefined);
    this.txn.to('committing');
    const deadline = Date.now() + this.config.transactionTimeoutMs;
    const started = performance.now();
    let offsetsMs = 0;
    try {
      if (this.config.eos) {
        // commitTransaction flushes the outstanding records itself, and fails (abortable)
        // if any of them was not delivered: no separate flush round before the offsets.
        if (offsets.length > 0)
          await withRetries('sendOffsetsToTransaction', deadline, () =>
            this.unlessClosed((p) => p.sendOffsetsToTransaction(offsets, consumer, this.config.transactionTimeoutMs)),
          );
        offsetsMs = performance.now() - started;
        await withRetries('commitTransaction', deadline, () => this.unlessClosed((p) => p.commitTransaction(this.config.transactionTimeoutMs)));
      } else {
        await withRetries('flush', deadline, () => this.client.flush(this.config.transactionTimeoutMs));
        const failed = this.deliveryError;
        if (failed) throw txnError('delivering a produced record', failed, 'abortable');
        if (offsets.length > 0)
          try {
            consumer.commitSync(offsets);
          } catch (err) {
            throw txnError('committing offsets', err, 'abortable');
          }
      }
      this.txn.to('ready');
      return { offsetsMs };
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
      await this.client.flush(this.config.transactionTimeoutMs).catch(() => undefined);
      if (this.config.eos)
        await withRetries('abortTransaction', Date.now() + this.config.transactionTimeoutMs, () =>
          this.unlessClosed((p) => p.abortTransaction(this.config.transactionTimeoutMs)),
        );
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
  private unlessClosed(call: (producer: Producer) => Promise<void>): Promise<void> {
    if (this.txn.is('closed')) return Promise.reject(txnError('a transactional call', new Error('the producer was closed (close timeout)'), 'fatal'));
    return call(this.client);
  }

  async close(): Promise<void> {
    await this.beginning?.catch(() => undefined);
    if (this.txn.is('closed')) return;
    this.txn.to('closed');
    if (this.producer?.isConnected()) await this.producer.disconnect(5_000);
  }
}
