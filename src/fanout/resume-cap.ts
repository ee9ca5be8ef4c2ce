/**
 * How much one resume reply may carry. The reply is one WebSocket message, built in
 * memory and parsed at once by the client, so it is capped in records and in bytes.
 * Past either cap the reply keeps the newest publications of every partition — the cap
 * shared round-robin between partitions, newest first — and says `truncated: true` and
 * `recovered: false`: the client has a gap before them, as when retention deleted part
 * of it, and what follows the reply (live pushes) joins on without one.
 */
import type { Publication } from './history';
import { pubJson } from './hub';

export interface ResumeCap {
  records: number;
  bytes: number;
}

/** About 2–4 MiB of predictions either way (a prediction is about 400–800 bytes as JSON). */
export const RESUME_CAP: ResumeCap = { records: 5_000, bytes: 4 * 1024 * 1024 };

/** Each partition's publications (oldest first) → what fits, still oldest first, each a suffix of its partition's. */
export function capResume(partitions: readonly (readonly Publication[])[], cap: ResumeCap = RESUME_CAP): { partitions: Publication[][]; truncated: boolean } {
  const sizes = partitions.map((ps) => ps.map((p) => Buffer.byteLength(JSON.stringify(pubJson(p))) + 1)); // + its comma
  const records = sizes.reduce((n, s) => n + s.length, 0);
  const bytes = sizes.reduce((n, s) => s.reduce((m, b) => m + b, n), 0);
  if (records <= cap.records && bytes <= cap.bytes) return { partitions: partitions.map((ps) => [...ps]), truncated: false };
  const taken = partitions.map(() => 0);
  let n = 0;
  let size = 0;
  for (let more = true; more; ) {
    more = false;
    for (let i = 0; i < partitions.length; i++) {
      const s = sizes[i]!;
      const t = taken[i]!;
      if (t === s.length) continue;
      const next = s[s.length - 1 - t]!;
      if (n + 1 > cap.records || size + next > cap.bytes) {
        more = false;
        break;
      }
      taken[i] = t + 1;
      n++;
      size += next;
      more = true;
    }
  }
  return { partitions: partitions.map((ps, i) => ps.slice(ps.length - taken[i]!)), truncated: true };
}
