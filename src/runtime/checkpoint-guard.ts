/**
 * When a closing task may checkpoint its stores at the changelogs' end offsets.
 *
 * A checkpoint says "the local store holds everything below these offsets". That is true
 * of what this instance itself committed, and false as soon as another instance wrote the
 * changelog: after a lost assignment (this instance was paused past its session timeout,
 * the group moved its tasks on, their new owner wrote), a checkpoint at the end offsets
 * would make a later restore here skip the new owner's writes, and the store would
 * silently diverge. librdkafka (through node-rdkafka) cannot tell a lost assignment from a
 * clean hand-over, so every close asks the group instead:
 *
 *   1. the changelogs' end offsets (last stable offsets) are read first;
 *   2. then the group's committed offsets of the task's input partitions;
 *   3. only when those equal the offsets this instance last committed (or found at its
 *      assignment) did nobody else commit the task since, and the ends read in step 1
 *      hold only this instance's writes: they are checkpointed.
 *
 * Step 3 holds when every changelog write of another owner becomes visible together with
 * an input-offset commit: exactly-once, and no wall-clock punctuator (which may write state
 * in a transaction without input offsets). Under at-least-once changelog records are
 * visible before their offsets are committed, and a punctuating task may commit without
 * offsets: such tasks checkpoint only at this instance's own close after its final commit
 * succeeded (it still owns them then), never at a revocation.
 *
 * Otherwise no checkpoint is written: the one from the last restoration stays, which may
 * lag but never leads, and the next open restores the rest from the changelog.
 */
import type { TopicPartition } from '../kafka';

export interface CheckpointSource {
  /** End offsets (last stable offsets) of changelog partitions, "topic:partition" → offset. */
  endOffsets(partitions: { topic: string; partition: number }[]): Promise<ReadonlyMap<string, number>>;
  /** The group's committed offsets of input partitions, "topic:partition" → offset (negative: none). */
  committed(partitions: TopicPartition[]): Promise<ReadonlyMap<string, number>>;
}

export interface ClosingTask {
  id: string;
  /** Every input partition of the task. */
  inputs: readonly TopicPartition[];
  /** What this instance last committed (or found committed at its assignment), per input partition. */
  committed: ReadonlyMap<string, number>;
  changelogs: readonly { topic: string; partition: number }[];
  /** Whether the task may checkpoint at all (see above); false: it writes none. */
  eligible: boolean;
}

/** Per task that may checkpoint, the end offsets to write; tasks left out write none. */
export async function checkpointEnds(tasks: readonly ClosingTask[], source: CheckpointSource): Promise<Map<string, ReadonlyMap<string, number>>> {
  const out = new Map<string, ReadonlyMap<string, number>>();
  const withStores = tasks.filter((t) => t.changelogs.length > 0 && t.eligible);
  if (withStores.length === 0) return out;
  let ends: ReadonlyMap<string, number>;
  let group: ReadonlyMap<string, number>;
  try {
    ends = await source.endOffsets(withStores.flatMap((t) => t.changelogs)); // 1: before the group's offsets
    group = await source.committed(withStores.flatMap((t) => [...t.inputs])); // 2
  } catch {
    return out; // cannot tell: no checkpoint
  }
  for (const t of withStores) {
    const onlyOurs =
      t.inputs.length > 0 &&
      t.inputs.every((tp) => {
        const key = `${tp.topic}:${tp.partition}`;
        const ours = t.committed.get(key);
        return ours !== undefined && normal(group.get(key)) === normal(ours);
      });
    if (onlyOurs) out.set(t.id, ends); // 3
  }
  return out;
}

/** librdkafka reports "no committed offset" as a negative sentinel. */
function normal(offset: number | undefined): number {
  return offset === undefined || offset < 0 ? -1 : offset;
}
