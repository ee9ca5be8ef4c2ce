/**
 * The commit protocol, in one place. One commit covers every task of this instance (one
 * transaction per commit under exactly_once_v2), in this order:
 *
 *   1. gather, per input partition, the offset after the last processed record;
 *   1b. flush the state stores' write-back caches: one changelog record per changed key
 *      goes into the transaction (and the write down to the store's backend, staged);
 *   2. add those offsets to the transaction with the consumer's group metadata
 *      (sendOffsetsToTransaction: a zombie of an older group generation is fenced);
 *   3. commitTransaction, which first flushes the producer — every output record of the
 *      transaction must be acknowledged, or the commit fails as abortable;
 *   4. on success, outputs and input offsets are visible together; else none of them;
 *   5. only then mark the tasks' progress as committed, and the stores' staged writes
 *      become committed state (a persistent backend writes its batch here).
 *
 * Under at-least-once, steps 2-4 are an explicit flush, then a synchronous consumer offset
 * commit. The thread opens the next transaction right after a successful commit.
 * A failure leaves the tasks' progress uncommitted; the caller aborts and rewinds.
 */
import type { Consumer } from '../kafka';
import type { StreamsProducer } from './streams-producer';
import type { TaskManager } from './task-manager';

/** Where a commit's time goes (ms): the metric streams_commit_phase_duration_ms{phase}. */
export interface CommitPhases {
  /** 1, 1b: gathering offsets and flushing the stores' caches into the transaction. */
  flush: number;
  /** 2: sendOffsetsToTransaction (two round trips: transaction and group coordinators). */
  offsets: number;
  /** 3: commitTransaction (the producer's flush, then EndTxn). */
  commit: number;
  /** 5: the stores' staged writes made committed state. */
  stores: number;
}

export interface CommitResult {
  partitions: number;
  durationMs: number;
  phases: CommitPhases;
}

export async function commitAll(tasks: TaskManager, producer: StreamsProducer, consumer: Consumer): Promise<CommitResult> {
  const started = performance.now();
  const offsets = tasks.offsetsToCommit(); // 1
  tasks.flushStores(); // 1b
  const flushed = performance.now();
  const sent = await producer.commit(offsets, consumer); // 2, 3, 4
  const committed = performance.now();
  await tasks.markCommitted(); // 5
  const ended = performance.now();
  return {
    partitions: offsets.length,
    durationMs: ended - started,
    phases: { flush: flushed - started, offsets: sent.offsetsMs, commit: committed - flushed - sent.offsetsMs, stores: ended - committed },
  };
}
