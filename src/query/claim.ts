/**
 * A host-directory claim, read from the topic: what an instance says about itself. It
 * decides where queries are forwarded (with the callers' credentials), so nothing in it is
 * taken on trust: the key names the instance, the claim must be of this application and
 * name the same instance, its URL must be a plain http(s) base URL, and its tasks must be
 * task ids — all within bounds, checked before anything is parsed further.
 */
export interface Claim {
  applicationId: string;
  instanceId: string;
  url: string;
  tasks: string[];
  at: number;
  /** Input topics whose records this instance found off the declared partitioner (partitioner-check.ts). */
  mismatched?: string[];
}

const MAX_CLAIM_BYTES = 1024 * 1024;
const MAX_TASKS = 100_000;
const INSTANCE_ID = /^[A-Za-z0-9._-]{1,100}$/;
const TASK_ID = /^\d{1,6}_\d{1,6}$/;
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const MAX_CLOCK_SKEW_MS = 5 * 60_000;

export type ParsedClaim = { ok: true; instanceId: string; claim: Claim | undefined } | { ok: false; reason: string };

/** A record of the directory topic: a claim, a withdrawal (no value), or a reason it is ignored. */
export function parseClaim(key: Buffer | string | null | undefined, value: Buffer | null | undefined, applicationId: string, now = Date.now()): ParsedClaim {
  const instanceId = key?.toString() ?? '';
  if (!INSTANCE_ID.test(instanceId)) return { ok: false, reason: 'the key is not an instance id' };
  if (!value) return { ok: true, instanceId, claim: undefined };
  if (value.length > MAX_CLAIM_BYTES) return { ok: false, reason: `the claim is ${value.length} bytes` };
  let c: Partial<Claim>;
  try {
    c = JSON.parse(value.toString('utf8')) as Partial<Claim>;
  } catch {
    return { ok: false, reason: 'the claim is not JSON' };
  }
  if (c === null || typeof c !== 'object') return { ok: false, reason: 'the claim is not an object' };
  if (c.applicationId !== applicationId) return { ok: false, reason: 'the claim is of another application' };
  if (c.instanceId !== instanceId) return { ok: false, reason: 'the claim names another instance than its key' };
  if (typeof c.url !== 'string' || !isBaseUrl(c.url)) return { ok: false, reason: "the claim's url is not an http(s) base URL" };
  if (!Array.isArray(c.tasks) || c.tasks.length > MAX_TASKS || !c.tasks.every((t) => typeof t === 'string' && TASK_ID.test(t)))
    return { ok: false, reason: "the claim's tasks are not task ids" };
  if (!Number.isSafeInteger(c.at) || c.at! < 0) return { ok: false, reason: "the claim's time is not a timestamp" };
  // The newest claim wins a task: one dated ahead would keep it forever.
  if (c.at! > now + MAX_CLOCK_SKEW_MS) return { ok: false, reason: 'the claim is dated in the future' };
  const mismatched = c.mismatched ?? [];
  if (!Array.isArray(mismatched) || mismatched.length > 1000 || !mismatched.every((t) => typeof t === 'string' && TOPIC.test(t)))
    return { ok: false, reason: "the claim's mismatched topics are not topic names" };
  return {
    ok: true,
    instanceId,
    claim: { applicationId, instanceId, url: c.url.replace(/\/+$/, ''), tasks: c.tasks, at: c.at!, ...(mismatched.length > 0 ? { mismatched } : {}) },
  };
}

/** http(s)://host[:port] with nothing else: no credentials, path, query or fragment. */
export function isBaseUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (
      (u.protocol === 'http:' || u.protocol === 'https:') &&
      !u.username &&
      !u.password &&
      (u.pathname === '/' || u.pathname === '') &&
      !u.search &&
      !u.hash &&
      text.length <= 2048
    );
  } catch {
    return false;
  }
}
