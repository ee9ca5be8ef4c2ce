/**
 * Answering a question about one key. The key's partition comes from the partitioner
 * that placed it (queryable.ts): with one candidate partition, the instance that runs it
 * answers, directly or through a forward. When the partitioner is unknown or mixed, the
 * key may be in any partition: every instance running a candidate is asked (one forward
 * per instance, listing its partitions), and the answer is the one hit — none is "no
 * value", two are a conflict (SA_ERR_QUERY_AMBIGUOUS), and a candidate that could not be
 * asked makes it 503: never a possibly wrong answer.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../logger';
import { candidatePartitions, type InputPartitioner } from '../partitioner';
import type { TaskStores } from '../streams/internals/task-stores';
import { requireStore } from './auth';
import { fail, forward, FORWARDED, SEARCH } from './http';
import type { Queryable, StoreInfo } from './queryable';
import { BadKey, keyFromText } from './text';

export type Req = FastifyRequest<{ Params: { store: string; key?: string }; Querystring: Record<string, string | undefined> }>;

export interface Located {
  store: StoreInfo;
  key: unknown;
  keyBytes: Buffer;
  partitioner: InputPartitioner;
  /** Where the key may be, most likely first (one, unless the partitioner is unknown); on a forwarded question, the asker's list. */
  candidates: number[];
  /** The partition count of the store's topics here. */
  partitions: number;
}

/** A local answer for one partition: found or not, and the body. */
export type LocalAnswer = (stores: TaskStores, partition: number) => Promise<{ found: boolean; body: Record<string, unknown> }>;

export interface Question {
  /** The path to ask an owner, built from the parsed request (never the request's own URL). */
  path: string;
  local: LocalAnswer;
  /** The answer when no partition holds the key. */
  none(): unknown;
  /** Whether an owner's 200 answer holds the key. */
  hit(body: Record<string, unknown>): boolean;
}

/** Store, key and candidate partitions of a request; replies with the error and returns undefined when they cannot be found. */
export async function locate(q: Queryable, req: Req, reply: FastifyReply): Promise<Located | undefined> {
  const store = q.stores.get(req.params.store);
  if (!store) {
    fail(reply, 'SA_ERR_QUERY_UNKNOWN_STORE', `no store named "${req.params.store.slice(0, 200)}"`, 'GET /stores lists the stores this token may read');
    return undefined;
  }
  if (!requireStore(req, reply, store.spec.name)) return undefined;
  let key: unknown;
  try {
    key = keyFromText(store.spec.keySerde, req.params.key ?? '');
  } catch (err) {
    if (!(err instanceof BadKey)) throw err;
    fail(reply, 'SA_ERR_QUERY_BAD_REQUEST', err.message);
    return undefined;
  }
  const keyBytes = store.spec.keySerde.serialize(store.changelog, key)!;
  const n = await q.partitions(store);
  const partitioner = q.partitionerOf(store);
  const asked = askedPartitions(req);
  return { store, key, keyBytes, partitioner, candidates: asked ?? candidatePartitions(partitioner, keyBytes, n), partitions: n };
}

/**
 * On a forwarded question: the partitions the asking instance chose (its partitioner and
 * partition count decide, not this instance's). Ones this instance does not run — or does
 * not know, with another partition count — are answered as unreachable, never as misses.
 */
function askedPartitions(req: Req): number[] | undefined {
  const header = req.headers[SEARCH];
  if (typeof header !== 'string' || req.headers[FORWARDED] === undefined || header.length > 100_000) return undefined;
  const asked = [
    ...new Set(
      header
        .split(',')
        .filter((p) => /^\d{1,6}$/.test(p))
        .map(Number),
    ),
  ];
  return asked.length > 0 ? asked : undefined;
}

export async function answer(q: Queryable, req: Req, reply: FastifyReply, at: Located, question: Question, log: Logger): Promise<unknown> {
  const ready = q.instance.ready();
  if (!ready.ok) return fail(reply, 'SA_ERR_QUERY_UNAVAILABLE', `instance ${q.instance.instanceId} is not ready: ${ready.why}`);
  const forwarded = req.headers[FORWARDED] !== undefined;
  if (at.candidates.length === 1 && !forwarded) return single(q, req, reply, at, question, log);
  return search(q, req, reply, at, question, log, forwarded);
}

/** A remote answer that holds no value: 404 "no value for the key" (another 404 — an unknown store — is not a miss). */
function miss(status: number, body: Record<string, unknown> | undefined): boolean {
  return status === 404 && (body?.error as { code?: unknown } | undefined)?.code === 'SA_ERR_QUERY_NOT_FOUND';
}

function parsed(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const taskOf = (at: Located, partition: number): string => `${at.store.subtopology}_${partition}`;

async function single(q: Queryable, req: Req, reply: FastifyReply, at: Located, question: Question, log: Logger): Promise<unknown> {
  const partition = at.candidates[0]!;
  const local = q.instance.localStores(taskOf(at, partition));
  if (local) {
    const r = await question.local(local, partition);
    return r.found ? r.body : question.none();
  }
  const owner = q.instance.owner(taskOf(at, partition));
  if (!owner || owner.instanceId === q.instance.instanceId) {
    return fail(
      reply,
      'SA_ERR_QUERY_UNAVAILABLE',
      `task ${taskOf(at, partition)} (partition ${partition}) has no known owner right now; it is moving between instances`,
    );
  }
  try {
    const res = await forward(owner.url, question.path, { ...authorizationOf(req), search: [partition] });
    if (res.retryAfter) reply.header('retry-after', res.retryAfter);
    return reply.code(res.status).header('content-type', 'application/json; charset=utf-8').header('x-sa-served-by', owner.instanceId).send(res.body);
  } catch (err) {
    log.warn({ err, owner: owner.instanceId, url: owner.url }, 'a forwarded query failed');
    return fail(reply, 'SA_ERR_QUERY_UNAVAILABLE', `the owner of task ${taskOf(at, partition)} (instance ${owner.instanceId}) did not answer; retry`);
  }
}

interface Hit {
  partition: number;
  instance: string;
  body: Record<string, unknown>;
}

async function search(q: Queryable, req: Req, reply: FastifyReply, at: Located, question: Question, log: Logger, forwarded: boolean): Promise<unknown> {
  const hits: Hit[] = [];
  let conflict = false;
  const remote = new Map<string, { url: string; partitions: number[] }>();
  const unreachable: number[] = [];
  for (const partition of at.candidates) {
    const local = partition < at.partitions ? q.instance.localStores(taskOf(at, partition)) : undefined;
    if (local) {
      const r = await question.local(local, partition);
      if (r.found) hits.push({ partition, instance: q.instance.instanceId, body: r.body });
      continue;
    }
    // A forwarded question is answered from this instance's own tasks only (a task elsewhere has moved); those of its
    // stream threads in other processes are its own too, one loopback hop away.
    if (forwarded && q.instance.runsInSibling?.(taskOf(at, partition)) !== true) {
      unreachable.push(partition);
      continue;
    }
    const owner = q.instance.owner(taskOf(at, partition));
    if (!owner || owner.instanceId === q.instance.instanceId) unreachable.push(partition);
    else remote.set(owner.instanceId, { url: owner.url, partitions: [...(remote.get(owner.instanceId)?.partitions ?? []), partition] });
  }
  await Promise.all(
    [...remote].map(async ([instance, o]) => {
      try {
        const res = await forward(o.url, question.path, { ...authorizationOf(req), search: o.partitions });
        const body = parsed(res.body);
        if (res.status === 200 && body && question.hit(body)) hits.push({ partition: Number(body.partition), instance, body });
        else if (res.status === 409)
          conflict = true; // that instance itself holds the key in two partitions
        else if (!(res.status === 200 && body) && !miss(res.status, body)) unreachable.push(...o.partitions);
      } catch (err) {
        log.warn({ err, owner: instance, url: o.url }, 'a forwarded key search failed');
        unreachable.push(...o.partitions);
      }
    }),
  );
  if (hits.length > 1 || conflict) {
    const where = hits.map((h) => h.partition);
    return fail(
      reply,
      'SA_ERR_QUERY_AMBIGUOUS',
      `store "${at.store.spec.name}" holds values for key ${JSON.stringify(req.params.key?.slice(0, 200))} in more than one partition${where.length > 1 ? ` (${where.join(', ')})` : ''}: its input was written with different partitioners`,
      'write the input with one partitioner (STREAMING_PROCESSOR__INPUT_PARTITIONER), or repartition() it by key before aggregating',
    );
  }
  // One hit while a candidate could not be asked might be half of a split key: only a full answer is given.
  if (hits.length === 1 && unreachable.length === 0) return reply.header('x-sa-served-by', hits[0]!.instance).send(hits[0]!.body);
  if (unreachable.length > 0)
    return fail(
      reply,
      'SA_ERR_QUERY_UNAVAILABLE',
      `partition(s) ${unreachable.slice(0, 20).join(', ')} that may hold the key could not be asked right now (moving, or their owner did not answer)`,
    );
  return question.none();
}

function authorizationOf(req: Req): { authorization?: string } {
  const a = req.headers.authorization;
  return typeof a === 'string' ? { authorization: a } : {};
}
