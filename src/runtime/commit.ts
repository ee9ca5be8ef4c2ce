/**
 * The commit protocol, in one place. One commit covers every task of this instance (one
 * transaction per commit under exactly_once_v2), in this order:
 *
 *   1. gather, per input partition, the offset after the last processed record;
 *   1b. flush the state stores' write-back caches: one changelog record per changed key
 *      goes into the transaction (and the write down to the store's backend, staged);
 *   2. flush the producer, so every output record of the transaction is acknowledged;
 *   3. add those offsets to the transaction with the consumer's group metadata
 *      (sendOffsetsToTransaction: a zombie of an older group generation is fenced);
 *   4. commitTransaction — outputs and input offsets become visible together, or not at all;
 *   5. only then mark the tasks' progress as committed, and the stores' staged writes
 *      become committed state (a persistent backend writes its batch here).
 *
 * Under at-least-once, steps 3-4 are a synchronous consumer offset commit after the flush.
 * A failure leaves the tasks' progress uncommitted; the caller aborts and rewinds.
 */
import type { KafkaConsumer } from 'node-rdkafka';
import type { StreamsProducer } from './streams-producer';
import type { TaskManager } from './task-manager';

export interface CommitResult {
  partitions: number;
  durationMs: number;
}

export async function commitAll(tasks: TaskManager, producer: StreamsProducer, consumer: KafkaConsumer): Promise<CommitResult> {
  const started = Date.now();
  const offsets = tasks.offsetsToCommit(); // 1
  tasks.flushStores(); // 1b
  await producer.commit(offsets, consumer); // 2, 3, 4
  tasks.markCommitted(); // 5
  return { partitions: offsets.length, durationMs: Date.now() - started };
}
