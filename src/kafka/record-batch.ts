/**
 * A batch of consumed records read by index, for restoration: the native reader hands over
 * a whole fetch as one buffer with typed arrays (no object per record), and a supplier
 * without one adapts its ordinary consumer to the same shape (restoreConsumerOver).
 */
import type { Consumer, RestoreConsumer } from './clients';
import type { ConsumedRecord, TopicPartition } from './types';

export interface RecordBatch {
  readonly length: number;
  topic(i: number): string;
  partition(i: number): number;
  offset(i: number): number;
  key(i: number): Buffer | null;
  value(i: number): Buffer | null;
  /** Partitions this batch read to their end. */
  readonly eof: readonly TopicPartition[];
}

/** A batch over node-rdkafka's records. */
class RecordsBatch implements RecordBatch {
  constructor(
    private readonly records: readonly ConsumedRecord[],
    readonly eof: readonly TopicPartition[],
  ) {}
  get length(): number {
    return this.records.length;
  }
  topic(i: number): string {
    return this.records[i]!.topic;
  }
  partition(i: number): number {
    return this.records[i]!.partition;
  }
  offset(i: number): number {
    return this.records[i]!.offset;
  }
  key(i: number): Buffer | null {
    return this.records[i]!.key;
  }
  value(i: number): Buffer | null {
    return this.records[i]!.value;
  }
}

/** Records already read, as a batch. */
export function batchOf(records: readonly ConsumedRecord[], eof: readonly TopicPartition[] = []): RecordBatch {
  return new RecordsBatch(records, eof);
}

/** A supplier's ordinary consumer as a restore consumer: one object per record, end-of-partition events gathered into the batches. */
export function restoreConsumerOver(consumer: Consumer, why: string): RestoreConsumer {
  let eof: TopicPartition[] = [];
  const stop = consumer.onPartitionEof((tp) => eof.push(tp));
  return {
    reads: `records (${why})`,
    assign: (partitions) => consumer.assign(partitions),
    unassign: () => consumer.unassign(),
    async consumeBatch(max) {
      if (!consumer.isConnected()) throw Object.assign(new Error('the restore consumer is closed'), { code: -172 /* _STATE */ });
      const records = await consumer.consume(max);
      const ended = eof;
      eof = [];
      return batchOf(records, ended);
    },
    queryWatermarks: (topic, partition, timeoutMs) => consumer.queryWatermarks(topic, partition, timeoutMs),
    isConnected: () => consumer.isConnected(),
    disconnect() {
      stop();
      return consumer.disconnect();
    },
  };
}
