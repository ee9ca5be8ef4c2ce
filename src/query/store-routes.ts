/**
 * The store endpoints. A key's task is found by Kafka's partitioner; the instance that
 * runs it answers, directly or through a forward. While the instance is not ready
 * (rebalancing, restoring) the answer is 503: never a possibly wrong value.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { prefixEnd } from '../../state';
import { fail, forward, FORWARDED } from './http';
import { partitionForKey } from './murmur2';
import type { Queryable, StoreInfo } from './queryable';
import { BadKey, jsonValue, keyFromText } from './text';

type Req = FastifyRequest<{ Params: { store: string; key?: string }; Querystring: Record<string, string | undefined> }>;

interface Located {
  store: StoreInfo;
  key: unknown;
  keyBytes: Buffer;
  partition: number;
  taskId: string;
}

export function storeRoutes(app: FastifyInstance, q: Queryable): void {
  app.get('/stores', async () => ({
    instance: q.instance.instanceId,
    stores: [...q.stores.values()].map((s) => ({ name: s.spec.name, kind: s.spec.window ? 'window' : 'key-value', backend: s.spec.backend, keySerde: s.spec.keySerde.name, valueSerde: s.spec.valueSerde.name, changelog: s.changelog, sourceTopics: s.sourceTopics })),
  }));

  app.get('/metadata/:store/:key', async (req: Req, reply) => {
    const at = await locate(q, req, reply);
    if (!at) return reply;
    const owner = q.instance.localStores(at.taskId) ? { instanceId: q.instance.instanceId, url: q.instance.url } : q.instance.owner(at.taskId);
    return { store: at.store.spec.name, key: req.params.key, partition: at.partition, task: at.taskId, owner: owner ? { instanceId: owner.instanceId, url: owner.url } : null, local: owner?.instanceId === q.instance.instanceId };
  });

  app.get('/stores/:store/keys/:key', async (req: Req, reply) => {
    const at = await locate(q, req, reply);
    if (!at) return reply;
    if (at.store.spec.window) return fail(reply, 'SA_ERR_QUERY_BAD_REQUEST', `"${at.store.spec.name}" is a window store`, `use /stores/${at.store.spec.name}/keys/<key>/windows?from=&to=`);
    return answerLocallyOrForward(q, req, reply, at, async (stores) => {
      const entry = stores.entry(at.store.spec.name)!;
      await entry.bytes.prefetch([at.keyBytes]);
      const value = entry.bytes.get(at.keyBytes);
      if (value === undefined) return fail(reply, 'SA_ERR_QUERY_NOT_FOUND', `store "${at.store.spec.name}" holds no value for key ${req.params.key}`);
      return { store: at.store.spec.name, key: jsonValue(at.key), value: jsonValue(entry.spec.valueSerde.deserialize(entry.changelog, value)), partition: at.partition };
    });
  });

  app.get('/stores/:store/keys/:key/windows', async (req: Req, reply) => {
    const at = await locate(q, req, reply);
    if (!at) return reply;
    if (!at.store.spec.window) return fail(reply, 'SA_ERR_QUERY_BAD_REQUEST', `"${at.store.spec.name}" is a key-value store`, `use /stores/${at.store.spec.name}/keys/<key>`);
    const from = timeParam(req.query.from, 0);
    const to = timeParam(req.query.to, Number.MAX_SAFE_INTEGER);
    if (from === undefined || to === undefined || from > to) return fail(reply, 'SA_ERR_QUERY_BAD_REQUEST', 'from and to must be epoch milliseconds with from ≤ to');
    const size = at.store.spec.window.sizeMs;
    return answerLocallyOrForward(q, req, reply, at, async (stores) => {
      const windows = await stores.window(at.store.spec.name)!.fetchRange(at.key, from, to);
      return { store: at.store.spec.name, key: jsonValue(at.key), partition: at.partition, windows: windows.map((w) => ({ start: w.start, end: w.start + size, value: jsonValue(w.value) })) };
    });
  });

  app.get('/stores/:store/entries', async (req: Req, reply) => entries(q, req, reply));
}

/** Store, key and task of a request; replies with the error and returns undefined when they cannot be found. */
async function locate(q: Queryable, req: Req, reply: FastifyReply): Promise<Located | undefined> {
  const store = q.stores.get(req.params.store);
  if (!store) {
    fail(reply, 'SA_ERR_QUERY_UNKNOWN_STORE', `no store named "${req.params.store}"`, `the stores are: ${[...q.stores.keys()].join(', ') || '(none)'}`);
    return undefined;
  }
  let key: unknown;
  try {
    key = keyFromText(store.spec.keySerde, req.params.key ?? '');
  } catch (err) {
    if (!(err instanceof BadKey)) throw err;
    fail(reply, 'SA_ERR_QUERY_BAD_REQUEST', err.message);
    return undefined;
  }
  const keyBytes = store.spec.keySerde.serialize(store.changelog, key)!;
  const partition = partitionForKey(keyBytes, await q.partitions(store));
  return { store, key, keyBytes, partition, taskId: `${store.subtopology}_${partition}` };
}

async function answerLocallyOrForward(q: Queryable, req: Req, reply: FastifyReply, at: Located, answer: (stores: NonNullable<ReturnType<Queryable['instance']['localStores']>>) => Promise<unknown>): Promise<unknown> {
  const ready = q.instance.ready();
  if (!ready.ok) return fail(reply, 'SA_ERR_QUERY_UNAVAILABLE', `instance ${q.instance.instanceId} is not ready: ${ready.why}`);
  const local = q.instance.localStores(at.taskId);
  if (local) return answer(local);
  const owner = q.instance.owner(at.taskId);
  if (!owner || owner.instanceId === q.instance.instanceId || req.headers[FORWARDED]) {
    return fail(reply, 'SA_ERR_QUERY_UNAVAILABLE', `task ${at.taskId} (partition ${at.partition}) has no known owner right now; it is moving between instances`);
  }
  try {
    const res = await forward(owner.url, req.url);
    if (res.headers['retry-after']) reply.header('retry-after', res.headers['retry-after']);
    return reply.code(res.status).header('content-type', 'application/json; charset=utf-8').header('x-sa-served-by', owner.instanceId).send(res.body);
  } catch (err) {
    return fail(reply, 'SA_ERR_QUERY_UNAVAILABLE', `the owner of task ${at.taskId} (${owner.instanceId} at ${owner.url}) did not answer: ${(err as Error).message}`);
  }
}

/** A range or prefix scan over the partitions this instance runs, in key-byte order, with a cursor. */
async function entries(q: Queryable, req: Req, reply: FastifyReply): Promise<unknown> {
  const store = q.stores.get(req.params.store);
  if (!store) return fail(reply, 'SA_ERR_QUERY_UNKNOWN_STORE', `no store named "${req.params.store}"`, `the stores are: ${[...q.stores.keys()].join(', ') || '(none)'}`);
  if (store.spec.window) return fail(reply, 'SA_ERR_QUERY_BAD_REQUEST', `"${store.spec.name}" is a window store; scan a key's windows instead`);
  const ready = q.instance.ready();
  if (!ready.ok) return fail(reply, 'SA_ERR_QUERY_UNAVAILABLE', `instance ${q.instance.instanceId} is not ready: ${ready.why}`);
  const limit = req.query.limit === undefined ? 100 : Number(req.query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) return fail(reply, 'SA_ERR_QUERY_BAD_REQUEST', `limit must be a whole number from 1 to 10000, not "${req.query.limit}"`);
  let from: Buffer | undefined;
  let to: Buffer | undefined;
  try {
    const bytes = (text: string): Buffer => store.spec.keySerde.serialize(store.changelog, keyFromText(store.spec.keySerde, text))!;
    if (req.query.prefix !== undefined) {
      from = bytes(req.query.prefix);
      to = prefixEnd(from);
    }
    if (req.query.from !== undefined) from = bytes(req.query.from);
    if (req.query.to !== undefined) to = bytes(req.query.to);
    if (req.query.cursor !== undefined) {
      if (!/^[A-Za-z0-9_-]+$/.test(req.query.cursor)) throw new BadKey('cursor is not a cursor this API returned');
      from = Buffer.from(req.query.cursor, 'base64url');
    }
  } catch (err) {
    if (!(err instanceof BadKey)) throw err;
    return fail(reply, 'SA_ERR_QUERY_BAD_REQUEST', err.message);
  }
  const partitions = await q.partitions(store);
  const local = q.instance.localTasks().filter((t) => t.startsWith(`${store.subtopology}_`));
  const rows = (await Promise.all(local.map(async (t) => (await q.instance.localStores(t)?.entry(store.spec.name)?.bytes.range(from, to, limit + 1)) ?? []))).flat();
  rows.sort(([a], [b]) => Buffer.compare(a, b));
  const page = rows.slice(0, limit);
  const more = rows.length > limit;
  const next = more ? Buffer.concat([page[page.length - 1]![0], Buffer.from([0])]).toString('base64url') : null;
  return {
    store: store.spec.name,
    entries: page.map(([k, v]) => ({ key: jsonValue(store.spec.keySerde.deserialize(store.changelog, k)), value: jsonValue(store.spec.valueSerde.deserialize(store.changelog, v)) })),
    cursor: next,
    // Each instance scans the partitions it runs; a complete scan asks every instance (see /metadata).
    partitions: local.map((t) => Number(t.split('_')[1])).sort((a, b) => a - b),
    complete: local.length === partitions,
  };
}

function timeParam(text: string | undefined, fallback: number): number | undefined {
  if (text === undefined) return fallback;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}
