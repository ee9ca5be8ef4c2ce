import { strict as assert } from 'node:assert';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { LIMITS, parseFrame, ProtocolError, reply, type Request } from '../../../src/fanout/protocol';
import { below, mulberry32 } from '../../support/prng';

/**
 * Fuzzing the WebSocket protocol parser (`parseFrame`): random bytes, random JSON, and
 * valid requests mutated — fields replaced or dropped, huge numbers, deep nesting, very
 * long strings, many partitions or keys, many lines per frame, the text cut or garbled.
 * Every case must end in requests of the documented shape or ProtocolErrors with a
 * stable code, never another exception. The cases run in a worker so that a hang fails
 * the test (the worker is stopped) instead of stopping the run: no case may take
 * CASE_LIMIT_MS, far more than any takes (the slowest, a frame of about 1 MB, take tens of
 * milliseconds).
 */
const SEED = 0x5eed_0612;
const CASES = 3_000;
const CASE_LIMIT_MS = 3_000;
const CODES = new Set(['SA_ERR_WS_BAD_REQUEST', 'SA_ERR_WS_UNKNOWN_METHOD']);

interface Outcome {
  cases: number;
  requests: number;
  errors: number;
  failures: string[];
}

function fuzzInWorker(): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(__filename, { execArgv: ['--require', 'tsx/cjs'] });
    let current = { i: -1, what: '', since: Date.now() };
    const end = (err?: Error, outcome?: Outcome): void => {
      clearInterval(watchdog);
      void worker.terminate();
      if (err) reject(err);
      else resolve(outcome!);
    };
    const watchdog = setInterval(() => {
      if (current.i >= 0 && Date.now() - current.since > CASE_LIMIT_MS)
        end(new Error(`case ${current.i} (seed ${SEED} + ${current.i}) ran for more than ${CASE_LIMIT_MS} ms, a hang: ${current.what}`));
    }, 100);
    worker.on('message', (m: { start?: number; what?: string; outcome?: Outcome }) => {
      if (m.outcome) end(undefined, m.outcome);
      else current = { i: m.start!, what: m.what!, since: Date.now() };
    });
    worker.on('error', (err) => end(err));
    worker.on('exit', (code) => end(new Error(`the fuzz worker exited (${code}) before it finished`)));
  });
}

function fuzz(): void {
  const outcome: Outcome = { cases: 0, requests: 0, errors: 0, failures: [] };
  for (let i = 0; i < CASES; i++) {
    const random = mulberry32(SEED + i);
    const { kind, text } = generate(random);
    const what = `${kind}: ${JSON.stringify(text.slice(0, 160))}${text.length > 160 ? ` … (${text.length} characters)` : ''}`;
    parentPort!.postMessage({ start: i, what });
    try {
      for (const r of parseFrame(text)) {
        if (r instanceof ProtocolError) {
          checkError(r);
          outcome.errors++;
        } else {
          checkRequest(r);
          outcome.requests++;
        }
      }
    } catch (err) {
      outcome.failures.push(`case ${i}, ${what}: ${(err as Error).stack ?? String(err)}`);
    }
    outcome.cases++;
  }
  parentPort!.postMessage({ outcome });
}

function checkError(e: ProtocolError): void {
  assert.ok(CODES.has(e.code), `code ${e.code}`);
  const answer = JSON.parse(e.toReply()) as { id?: unknown; error: { code: string; message: string; temporary: boolean } };
  assert.equal(answer.error.temporary, false);
  assert.ok(answer.error.message.length <= 300, `an error message of ${answer.error.message.length} characters echoes too much`);
  if (e.id !== undefined) checkId(e.id);
}

function checkRequest(r: Request): void {
  checkId(r.id);
  assert.ok(JSON.parse(reply(r.id, {})));
  switch (r.method) {
    case 'ping':
      return;
    case 'refresh':
      return assert.ok(typeof r.token === 'string' && r.token.length > 0);
    case 'unsubscribe':
      return checkChannel(r.channel);
    case 'subscribe': {
      checkChannel(r.channel);
      const { keys, keyPrefix, minScore, ...rest } = r.filter;
      assert.deepEqual(rest, {});
      if (keys !== undefined) assert.ok(keys.length >= 1 && keys.length <= LIMITS.keys && keys.every((k) => typeof k === 'string'));
      if (keyPrefix !== undefined) assert.equal(typeof keyPrefix, 'string');
      if (minScore !== undefined) assert.ok(Number.isFinite(minScore));
      if (r.recover === undefined) return;
      assert.ok(r.recover.size <= LIMITS.recoverPartitions);
      for (const [partition, next] of r.recover)
        assert.ok(Number.isInteger(partition) && partition >= 0 && partition <= 999_999 && Number.isSafeInteger(next) && next >= 0, `${partition}: ${next}`);
      return;
    }
    default:
      assert.fail(`a request with method ${JSON.stringify((r as { method: unknown }).method)}`);
  }
}

function checkId(id: unknown): void {
  assert.ok((typeof id === 'number' && Number.isFinite(id)) || (typeof id === 'string' && id.length <= LIMITS.idLength), `id ${String(id).slice(0, 50)}`);
}

function checkChannel(channel: string): void {
  assert.ok(typeof channel === 'string' && channel.length >= 1 && channel.length <= LIMITS.channelLength);
}

// ---- the cases -------------------------------------------------------------------------

type Random = () => number;

const pick = <T>(random: Random, xs: readonly T[]): T => xs[below(random, xs.length)]!;

/** Raw JSON put where a marker string stands (what JSON.stringify cannot write: 1e999, deep nesting). */
const RAW = new Map<string, (random: Random) => string>([
  [
    '"@huge@"',
    (random) => pick(random, ['1e999', '-1e999', '1e308', '123456789012345678901234567890', '9007199254740993', '-0', '0.1', '-1', '-2', '4294967296']),
  ],
  [
    '"@deep@"',
    (random) => {
      const d = 1 + below(random, 20_000);
      return random() < 0.5 ? `${'['.repeat(d)}${']'.repeat(d)}` : `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`;
    },
  ],
]);

function generate(random: Random): { kind: string; text: string } {
  const roll = random();
  if (roll < 0.15) return { kind: 'random bytes', text: randomBytes(random) };
  if (roll < 0.3) return { kind: 'random JSON', text: JSON.stringify(randomJson(random, 0)) };
  const request = validRequest(random);
  const mutations = below(random, 4);
  for (let m = 0; m < mutations; m++) mutate(random, request);
  let text = JSON.stringify(request);
  for (const [marker, raw] of RAW) while (text.includes(marker)) text = text.replace(marker, raw(random));
  if (random() < 0.3) text = mutateText(random, text);
  return { kind: mutations === 0 ? 'valid request' : `mutated request (${mutations})`, text };
}

function randomBytes(random: Random): string {
  const bytes = Array.from({ length: below(random, 400) }, () => (random() < 0.08 ? 0x0a : below(random, 256)));
  return Buffer.from(bytes).toString('utf8');
}

const KEYS = [
  'id',
  'method',
  'params',
  'channel',
  'filter',
  'recover',
  'positions',
  'keys',
  'keyPrefix',
  'minScore',
  'token',
  '__proto__',
  'constructor',
  'toString',
  '0',
  '00',
  '-1',
  '1e3',
];

function randomJson(random: Random, depth: number): unknown {
  const roll = below(random, depth > 4 ? 5 : 7);
  switch (roll) {
    case 0:
      return null;
    case 1:
      return random() < 0.5;
    case 2:
      return pick(random, [0, -1, 1, 0.5, 1e308, -1e308, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, below(random, 1_000_000), '@huge@']);
    case 3:
      return randomString(random);
    case 4:
      return pick(random, ['subscribe', 'unsubscribe', 'ping', 'refresh', 'predictions', 'predictions:m1', 'alerts', 'metrics', '@deep@']);
    case 5:
      return Array.from({ length: below(random, 5) }, () => randomJson(random, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: below(random, 5) }, () => [random() < 0.7 ? pick(random, KEYS) : randomString(random), randomJson(random, depth + 1)]),
      );
  }
}

function randomString(random: Random): string {
  if (random() < 0.05) return 'x'.repeat(50_000 + below(random, 100_000));
  const alphabet = 'abc:_-.#0123456789 "\\\n\r\t\u0000é€😀\ud800';
  return Array.from({ length: below(random, 30) }, () => alphabet[below(random, alphabet.length)]).join('');
}

function validRequest(random: Random): Record<string, unknown> {
  const id = pick(random, [1, 42, 'a-string-id', 0]);
  switch (below(random, 5)) {
    case 0:
      return {
        id,
        method: 'subscribe',
        params: {
          channel: pick(random, ['predictions', 'predictions:m1', 'alerts', 'metrics']),
          filter: { keys: ['k1', 'k2'], keyPrefix: 'k', minScore: 0.5 },
          recover: { positions: { 0: 41, 1: -1, 2: 1000 } },
        },
      };
    case 1:
      return { id, method: 'unsubscribe', params: { channel: 'alerts' } };
    case 2:
      return { id, method: 'ping' };
    case 3:
      return { id, method: 'refresh', params: { token: 'aaa.bbb.ccc' } };
    default:
      return { id, method: pick(random, ['drop_tables', 'SUBSCRIBE', '', 'constructor']), params: {} };
  }
}

/** Every object and array inside `root`, with the key or index under which a value sits. */
function slots(root: unknown): { holder: Record<string, unknown> | unknown[]; key: string | number }[] {
  const out: { holder: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        out.push({ holder: v, key: i });
        walk(x);
      });
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        out.push({ holder: v as Record<string, unknown>, key: k });
        walk(x);
      }
    }
  };
  walk(root);
  return out;
}

function mutate(random: Random, request: Record<string, unknown>): void {
  const all = slots(request);
  const at = all.length > 0 ? pick(random, all) : { holder: request, key: 'id' };
  const set = (v: unknown): void => void ((at.holder as Record<string | number, unknown>)[at.key] = v);
  switch (below(random, 9)) {
    case 0:
      return set(randomJson(random, 0));
    case 1:
      return void (Array.isArray(at.holder) ? at.holder.splice(Number(at.key), 1) : delete at.holder[at.key as string]);
    case 2:
      return set('@huge@');
    case 3:
      return set('@deep@');
    case 4:
      return set('y'.repeat(10_000 + below(random, 200_000)));
    case 5:
      return set({ positions: Object.fromEntries(Array.from({ length: 500 + below(random, 3_000) }, (_, i) => [String(i), below(random, 1000) - 1])) });
    case 6:
      return set(Array.from({ length: 900 + below(random, 300) }, (_, i) => `key-${i}`));
    case 7:
      return set({
        positions: {
          [pick(random, ['0', '007', '1000000', '999999', '-1', '1.5', ' 1', '', '__proto__'])]: pick(random, [0, -1, -2, 1.5, 2 ** 53, '7', null]),
        },
      });
    default:
      return set({
        keys: pick(random, [[], [1], ['a', null], 'k']),
        keyPrefix: pick(random, [7, '', 'p']),
        minScore: pick(random, ['0.5', null, '@huge@', 0.5]),
        [randomString(random)]: 1,
      });
  }
}

/** Text-level mutations; a frame is kept to about 1 MB (the server takes 64 KiB by default). */
function mutateText(random: Random, text: string): string {
  const at = below(random, text.length + 1);
  const times = (n: number): number => 1 + below(random, Math.max(1, Math.min(n, Math.floor(1_000_000 / (text.length + 1)))));
  switch (below(random, 6)) {
    case 0:
      return text.slice(0, at);
    case 1:
      return `${text.slice(0, at)}${String.fromCharCode(below(random, 0x3000))}${text.slice(at + 1)}`;
    case 2:
      return `${text.slice(0, at)}\n${text.slice(at)}`;
    case 3:
      return Array(times(300))
        .fill(text)
        .join(random() < 0.5 ? '\n' : '\r\n');
    case 4:
      return `${'\n'.repeat(below(random, 1_000))}${text}${' \n'.repeat(below(random, 1_000))}`;
    default:
      return Array.from({ length: times(150) }, () => (random() < 0.5 ? text : JSON.stringify(randomJson(random, 0)))).join('\n');
  }
}

// Last: the worker runs the cases as it loads this file, once everything above is defined.
if (isMainThread) {
  describe('fan-out: the protocol parser under fuzzing', () => {
    it(`${CASES} random, JSON and mutated frames: each ends in requests or typed errors, none hangs`, async () => {
      const outcome = await fuzzInWorker();
      assert.deepEqual(outcome.failures, []);
      assert.equal(outcome.cases, CASES);
      assert.ok(outcome.requests > 500 && outcome.errors > 500, `the cases reach both outcomes (${outcome.requests} requests, ${outcome.errors} errors)`);
    });
  });
} else {
  fuzz();
}
