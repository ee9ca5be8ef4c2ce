/**
 * A scan in an instance whose stream threads are processes of their own (runtime/threads/):
 * the main process holds no store, so it asks each thread's loopback listener for its page
 * of the same scan, with the keys' bytes (`raw=1`), and merges the pages in key-byte
 * order with its own rows. A thread that does not answer leaves its partitions out, and
 * the answer then says it is incomplete.
 */
import type { Logger } from '../logger';
import { forward } from './http';
import type { Queryable } from './queryable';

export interface ScanRow {
  key: Buffer;
  entry: { key: unknown; value: unknown };
}

const PARAMS = ['prefix', 'from', 'to', 'cursor'] as const;

/** The query string of the same scan for a thread: the parsed parameters only, never the request's own URL. */
export function scanQuery(query: Record<string, unknown>, limit: number): string {
  const p = new URLSearchParams();
  for (const name of PARAMS) if (typeof query[name] === 'string') p.set(name, query[name]);
  p.set('limit', String(limit));
  p.set('raw', '1');
  return p.toString();
}

interface Page {
  entries: { key: unknown; value: unknown }[];
  raw: string[];
  cursor: string | null;
  partitions: number[];
}

function isPage(v: unknown, limit: number): v is Page {
  const p = v as Partial<Page> | null;
  return (
    typeof p === 'object' &&
    p !== null &&
    Array.isArray(p.entries) &&
    Array.isArray(p.raw) &&
    Array.isArray(p.partitions) &&
    p.entries.length === p.raw.length &&
    p.entries.length <= limit &&
    p.raw.every((k) => typeof k === 'string') &&
    p.partitions.every((n) => Number.isInteger(n))
  );
}

/** Each thread's page of the scan of `store` over `tasks` (the instance's tasks its threads run). */
export async function siblingRows(
  q: Queryable,
  store: string,
  tasks: readonly string[],
  query: string,
  limit: number,
  authorization: string | undefined,
  log: Logger,
): Promise<{ rows: ScanRow[]; partitions: number[]; more: boolean }> {
  const owners = new Map<string, string>();
  for (const t of tasks) {
    const o = q.instance.owner(t);
    if (o) owners.set(o.instanceId, o.url);
  }
  const rows: ScanRow[] = [];
  const partitions: number[] = [];
  let more = false;
  await Promise.all(
    [...owners].map(async ([thread, url]) => {
      try {
        const res = await forward(url, `/stores/${encodeURIComponent(store)}/entries?${query}`, authorization ? { authorization } : {});
        const page: unknown = res.status === 200 ? JSON.parse(res.body) : undefined;
        if (!isPage(page, limit)) return log.warn({ thread, status: res.status }, 'a stream thread did not answer a scan');
        for (const [i, entry] of page.entries.entries()) rows.push({ key: Buffer.from(page.raw[i]!, 'base64url'), entry });
        partitions.push(...page.partitions);
        more ||= page.cursor !== null;
      } catch (err) {
        log.warn({ err, thread }, 'a stream thread did not answer a scan');
      }
    }),
  );
  return { rows, partitions, more };
}
