/**
 * The store endpoints. A key's value or windows come from the instance that runs its
 * partition (lookup.ts); a scan covers the partitions this instance runs. While the
 * instance is not ready (rebalancing, restoring) the answer is 503: never a possibly
 * wrong value. Only stores the caller's token grants are listed or read.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { prefixEnd } from '../../state';
import type { Logger } from '../logger';
import { granted, requireStore } from './auth';
import { fail } from './http';
import { answer, locate, type Located, type Req } from './lookup';
import type { Queryable } from './queryable';
import { type ScanRow, scanQuery, siblingRows } from './sibling-scan';
import { BadKey, jsonValue, keyFromText } from './text';

const enc = encodeURIComponent;

export function storeRoutes(app: FastifyInstance, q: Queryable, log: Logger): void {
  app.get('/stores', async (req) => ({
    instance: q.instance.instanceId,
    stores: [...q.stores.values()]
      .filter((s) => granted(req, s.spec.name))
      .map((s) => ({
        name: s.spec.name,
        kind: s.spec.window ? 'window' : 'key-value',
        backend: s.spec.backend,
        keySerde: s.spec.keySerde.name,
        valueSerde: s.spec.valueSerde.name,
        changelog: s.changelog,
        sourceTopics: s.sourceTopics,
        partitioner: q.partitionerOf(s),
      })),
  }));

  app.get('/metadata/:store/:key', async (req: Req, reply) => {
    const at = await locate(q, req, reply);
    if (!at) return reply;
    const owners = at.candidates.slice(0, 100).map((partition) => {
      const task = `${at.store.subtopology}_${partition}`;
      const ours = q.instance.localStores(task) !== undefined || q.instance.runsInSibling?.(task) === true;
      const owner = ours ? { instanceId: q.instance.instanceId, url: q.instance.url } : q.instance.owner(task);
      return { partition, task, owner: owner ? { instanceId: owner.instanceId, url: owner.url } : null, local: owner?.instanceId === q.instance.instanceId };
    });
    const first = owners[0]!;
    return {
      store: at.store.spec.name,
      key: req.params.key,
      partitioner: at.partitioner,
      ...first,
      ...(at.candidates.length > 1 ? { candidates: owners } : {}),
    };
  });

  app.get('/stores/:store/keys/:key', async (req: Req, reply) => {
    const at = await locate(q, req, reply);
    if (!at) return reply;
    if (at.store.spec.window)
      return fail(
        reply,
        'SA_ERR_QUERY_BAD_REQUEST',
        `"${at.store.spec.name}" is a window store`,
        `use /stores/${at.store.spec.name}/keys/<key>/windows?from=&to=`,
      );
    return answer(
      q,
      req,
      reply,
      at,
      {
        path: `/stores/${enc(at.store.spec.name)}/keys/${enc(req.params.key ?? '')}`,
        local: async (stores, partition) => {
          const entry = stores.entry(at.store.spec.name)!;
          await entry.bytes.prefetch([at.keyBytes]);
          const value = entry.bytes.get(at.keyBytes);
          if (value === undefined) return { found: false, body: {} };
          return {
            found: true,
            body: { store: at.store.spec.name, key: jsonValue(at.key), value: jsonValue(entry.spec.valueSerde.deserialize(entry.changelog, value)), partition },
          };
        },
        none: () =>
          fail(reply, 'SA_ERR_QUERY_NOT_FOUND', `store "${at.store.spec.name}" holds no value for key ${JSON.stringify(req.params.key?.slice(0, 200))}`),
        hit: () => true,
      },
      log,
    );
  });

  app.get('/stores/:store/keys/:key/windows', async (req: Req, reply) => {
    const at = await locate(q, req, reply);
    if (!at) return reply;
    if (!at.store.spec.window)
      return fail(reply, 'SA_ERR_QUERY_BAD_REQUEST', `"${at.store.spec.name}" is a key-value store`, `use /stores/${at.store.spec.name}/keys/<key>`);
    const from = timeParam(req.query.from, 0);
    const to = timeParam(req.query.to, Number.MAX_SAFE_INTEGER);
    if (from === undefined || to === undefined || from > to)
      return fail(reply, 'SA_ERR_QUERY_BAD_REQUEST', 'from and to must be epoch milliseconds with from ≤ to');
    return answer(q, req, reply, at, windowsQuestion(at, req, from, to), log);
  });

  app.get('/stores/:store/entries', async (req: Req, reply) => entries(q, req, reply, log));
}

function windowsQuestion(at: Located, req: Req, from: number, to: number): Parameters<typeof answer>[4] {
  const size = at.store.spec.window!.sizeMs;
  const body = (partition: number, windows: { start: number; value: unknown }[]): Record<string, unknown> => ({
    store: at.store.spec.name,
    key: jsonValue(at.key),
    partition,
    windows: windows.map((w) => ({ start: w.start, end: w.start + size, value: jsonValue(w.value) })),
  });
  return {
    path: `/stores/${enc(at.store.spec.name)}/keys/${enc(req.params.key ?? '')}/windows?from=${from}&to=${to}`,
    local: async (stores, partition) => {
      const windows = await stores.window(at.store.spec.name)!.fetchRange(at.key, from, to);
      return { found: windows.length > 0, body: body(partition, windows) };
    },
    // Windows of a key no partition holds: an empty list, as for a key without windows in range.
    none: () => body(at.candidates[0]!, []),
    hit: (b) => Array.isArray(b.windows) && b.windows.length > 0,
  };
}

/** A range or prefix scan over the partitions this instance runs, in key-byte order, with a cursor. */
async function entries(q: Queryable, req: Req, reply: FastifyReply, log: Logger): Promise<unknown> {
  const store = q.stores.get(req.params.store);
  if (!store)
    return fail(reply, 'SA_ERR_QUERY_UNKNOWN_STORE', `no store named "${req.params.store.slice(0, 200)}"`, 'GET /stores lists the stores this token may read');
  if (!requireStore(req, reply, store.spec.name)) return reply;
  if (store.spec.window) return fail(reply, 'SA_ERR_QUERY_BAD_REQUEST', `"${store.spec.name}" is a window store; scan a key's windows instead`);
  const ready = q.instance.ready();
  if (!ready.ok) return fail(reply, 'SA_ERR_QUERY_UNAVAILABLE', `instance ${q.instance.instanceId} is not ready: ${ready.why}`);
  const limit = req.query.limit === undefined ? 100 : Number(req.query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
    return fail(reply, 'SA_ERR_QUERY_BAD_REQUEST', `limit must be a whole number from 1 to 10000, not ${JSON.stringify(String(req.query.limit).slice(0, 50))}`);
  let from: Buffer | undefined;
  let to: Buffer | undefined;
  try {
    const bytes = (text: string): Buffer => store.spec.keySerde.serialize(store.changelog, keyFromText(store.spec.keySerde, text))!;
    if (req.query.prefix !== undefined) {
      from = bytes(String(req.query.prefix));
      to = prefixEnd(from);
    }
    if (req.query.from !== undefined) from = bytes(String(req.query.from));
    if (req.query.to !== undefined) to = bytes(String(req.query.to));
    if (req.query.cursor !== undefined) {
      if (typeof req.query.cursor !== 'string' || !/^[A-Za-z0-9_-]{1,20000}$/.test(req.query.cursor))
        throw new BadKey('cursor is not a cursor this API returned');
      from = Buffer.from(req.query.cursor, 'base64url');
    }
  } catch (err) {
    if (!(err instanceof BadKey)) throw err;
    return fail(reply, 'SA_ERR_QUERY_BAD_REQUEST', err.message);
  }
  const partitions = await q.partitions(store);
  const tasks = q.instance.localTasks().filter((t) => t.startsWith(`${store.subtopology}_`));
  const own = tasks.filter((t) => q.instance.localStores(t) !== undefined);
  const rows: ScanRow[] = (
    await Promise.all(
      own.map(
        async (t) =>
          (await q.instance
            .localStores(t)
            ?.entry(store.spec.name)
            ?.bytes.range(from, to, limit + 1)) ?? [],
      ),
    )
  )
    .flat()
    .map(([k, v]) => ({
      key: k,
      entry: { key: jsonValue(store.spec.keySerde.deserialize(store.changelog, k)), value: jsonValue(store.spec.valueSerde.deserialize(store.changelog, v)) },
    }));
  const scanned = own.map((t) => Number(t.split('_')[1]));
  // Partitions this instance's other stream threads run (each a process of its own): their pages, merged in.
  const siblings = tasks.filter((t) => !own.includes(t) && q.instance.runsInSibling?.(t) === true);
  let more = false;
  if (siblings.length > 0) {
    const auth = typeof req.headers.authorization === 'string' ? req.headers.authorization : undefined;
    const theirs = await siblingRows(q, store.spec.name, siblings, scanQuery(req.query as Record<string, unknown>, limit), limit, auth, log);
    rows.push(...theirs.rows);
    scanned.push(...theirs.partitions);
    more = theirs.more;
  }
  rows.sort((a, b) => Buffer.compare(a.key, b.key));
  const page = rows.slice(0, limit);
  more ||= rows.length > limit;
  const next = more && page.length > 0 ? Buffer.concat([page[page.length - 1]!.key, Buffer.from([0])]).toString('base64url') : null;
  return {
    store: store.spec.name,
    entries: page.map((r) => r.entry),
    // For the instance's main process, which merges its threads' pages by key bytes.
    ...(req.query.raw === '1' ? { raw: page.map((r) => r.key.toString('base64url')) } : {}),
    cursor: next,
    // Each instance scans the partitions it runs; a complete scan asks every instance (see /metadata).
    partitions: [...new Set(scanned)].sort((a, b) => a - b),
    complete: new Set(scanned).size === partitions,
  };
}

function timeParam(text: string | undefined, fallback: number): number | undefined {
  if (text === undefined) return fallback;
  const n = Number(text);
  return typeof text === 'string' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}
