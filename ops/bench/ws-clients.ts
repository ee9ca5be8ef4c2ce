/**
 * One client-load process of `npm run bench -- ws`: opens `count` WebSocket connections
 * to the fan-out (at most `rampPerSecond` new ones per second) and subscribes each —
 * `broadcast`: to every prediction; `dashboard`: client i (numbered from `base`) to the
 * key prefix `c<i>/` only. A connection that fails before its subscription is answered
 * (refused, reset, closed) is retried with a growing, jittered backoff, as a real client
 * would; the reasons are counted. Prints `connected <n>` when every client is subscribed
 * or has given up, records for every delivery the time from the record's Kafka timestamp
 * to its arrival here, and on SIGTERM prints one JSON line: deliveries, a latency sample,
 * first-attempt failures by reason, retries, clients lost, and unexpected closes.
 *
 *   node --import tsx ops/bench/ws-clients.ts <ws url> <token> <count> <rampPerSecond> <base> <broadcast|dashboard>
 */
import WebSocket from 'ws';

const [url, token, countText, rampText, baseText, shape] = process.argv.slice(2);
const count = Number(countText);
const ramp = Number(rampText);
const base = Number(baseText);
const SAMPLE_MAX = 200_000;
/** A client gives up after this many attempts (about a minute of backoff). */
const ATTEMPTS = 30;
let deliveries = 0;
let seen = 0;
const latencies: number[] = [];
const reasons: Record<string, number> = {};
let retries = 0;
let lost = 0;
let closes = 0;
let connected = 0;
let stopping = false;
const sockets = new Set<WebSocket>();

function onMessage(data: WebSocket.RawData): void {
  const at = Date.now();
  const text = data.toString();
  if (!text.startsWith('{"push"')) return;
  deliveries++;
  // reservoir sample: every delivery has the same chance to be in the latency sample
  const ts = Number(/"timestamp":(\d+)/.exec(text)?.[1]);
  seen++;
  if (latencies.length < SAMPLE_MAX) latencies.push(at - ts);
  else {
    const j = Math.floor(Math.random() * seen);
    if (j < SAMPLE_MAX) latencies[j] = at - ts;
  }
}

const subscribe = (i: number): string =>
  JSON.stringify({
    id: 1,
    method: 'subscribe',
    params: { channel: 'predictions', ...(shape === 'dashboard' ? { filter: { keyPrefix: `c${base + i}/` } } : {}) },
  });

/** One attempt: resolves true once subscribed, false when it failed before that (with the reason counted). */
function attempt(i: number, first: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url!, { headers: { Authorization: `Bearer ${token}` }, perMessageDeflate: false });
    let subscribed = false;
    let failed = false;
    // The first reason only: a refused upgrade is then also an error and a close.
    const fail = (reason: string): void => {
      if (subscribed || failed) return;
      failed = true;
      if (first) reasons[reason] = (reasons[reason] ?? 0) + 1;
      sockets.delete(ws);
      ws.terminate();
      resolve(false);
    };
    sockets.add(ws);
    ws.on('open', () => ws.send(subscribe(i)));
    ws.on('unexpected-response', (_req, res) => fail(`HTTP ${res.statusCode}`));
    ws.on('message', (d) => {
      if (subscribed) return;
      const text = d.toString();
      if (text.startsWith('{"id":1,"error"')) return fail(`subscribe refused: ${/"code":"([^"]+)"/.exec(text)?.[1] ?? 'unknown'}`);
      if (!text.startsWith('{"id":1,"result"')) return;
      subscribed = true;
      ws.on('message', onMessage);
      resolve(true);
    });
    ws.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message.slice(0, 60)));
    ws.on('close', (code) => {
      if (!subscribed) fail(`closed ${code} before subscribed`);
      else if (!stopping) closes++;
    });
  });
}

async function open(i: number): Promise<void> {
  for (let n = 0; n < ATTEMPTS; n++) {
    if (n > 0) {
      retries++;
      await new Promise((r) => setTimeout(r, Math.min(2_000, 50 * 2 ** n) * (0.5 + Math.random())));
    }
    if (await attempt(i, n === 0)) {
      connected++;
      return;
    }
  }
  lost++;
}

async function main(): Promise<void> {
  const pending: Promise<void>[] = [];
  const started = Date.now();
  for (let i = 0; i < count; i++) {
    const due = started + (i / ramp) * 1000;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    pending.push(open(i));
  }
  await Promise.all(pending);
  process.stdout.write(`connected ${connected}\n`);
}

process.on('SIGTERM', () => {
  stopping = true;
  for (const ws of sockets) ws.terminate();
  process.stdout.write(`${JSON.stringify({ connected, deliveries, latencies, reasons, retries, lost, closes })}\n`, () => process.exit(0));
});

void main();
