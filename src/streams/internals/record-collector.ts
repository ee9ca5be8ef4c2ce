/**
 * Where a task's output goes: the runtime's transactional producer, or the test driver's
 * topics. Sinks and changelogging stores both write through it.
 */
import type { Headers } from '../processor-api/record';

export interface RecordCollector {
  /** Without a partition, the producer's partitioner picks one from the key. */
  send(topic: string, key: Buffer | null, value: Buffer | null, timestamp: number, headers: Headers, partition?: number): void;
}
