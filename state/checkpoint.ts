/**
 * A task's checkpoint: for each changelog partition of its persistent stores, an offset
 * the local RocksDB contents are known to include. Local stores hold committed writes only
 * (they are written after the Kafka transaction commits) and changelog records carry whole
 * values, so restoring from any offset at or below the true position converges to the
 * committed state: the checkpoint may lag, never lead. Written after restoration and on a
 * clean close; a missing, unreadable or out-of-range checkpoint means "wipe and restore
 * from the beginning".
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const VERSION = 1;

export type CheckpointRead = { ok: true; offsets: Map<string, number> } | { ok: false; reason: string };

export function readCheckpoint(file: string): CheckpointRead {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { ok: false, reason: 'no checkpoint file (first start, or an unclean stop before one was written)' };
  }
  try {
    const parsed = JSON.parse(text) as { version?: unknown; offsets?: unknown };
    if (parsed.version !== VERSION || typeof parsed.offsets !== 'object' || parsed.offsets === null) throw new Error(`not a version ${VERSION} checkpoint`);
    const offsets = new Map<string, number>();
    for (const [tp, offset] of Object.entries(parsed.offsets as Record<string, unknown>)) {
      if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw new Error(`offset of ${tp} is ${String(offset)}`);
      offsets.set(tp, offset as number);
    }
    return { ok: true, offsets };
  } catch (err) {
    return { ok: false, reason: `unreadable checkpoint file: ${(err as Error).message}` };
  }
}

/** Written to a temporary file and renamed, so a crash never leaves half a checkpoint. */
export function writeCheckpoint(file: string, offsets: ReadonlyMap<string, number>): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify({ version: VERSION, offsets: Object.fromEntries(offsets) }));
  renameSync(tmp, file);
}

export function removeCheckpoint(file: string): void {
  rmSync(file, { force: true });
}
