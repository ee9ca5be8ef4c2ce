/**
 * One client-load process of `npm run bench -- ws`: opens `count` WebSocket connections
 * to the fan-out (at most `rampPerSecond` new ones per second), subscribes each to
 * predictions, prints `connected <n>` when all are up, records for every delivery the
 * time from the record's Kafka timestamp to its arrival here, and on SIGTERM prints one
 * JSON line: deliveries, a latency sample, errors and unexpected closes.
 *
 *   node --import tsx ops/bench/ws-clients.ts <ws url> <token> <count> <rampPerSecond>
 */
import WebSocket from 'ws';

const [url, token, countText, rampText] = process.argv.slice(2);
const count = Number(countText);
const ramp = Number(rampText);
const SAMPLE_MAX = 200_000;
let deliveries = 0;
let seen = 0;
const latencies: number[] = [];
let errors = 0;
let closes = 0;
let connected = 0;
let stopping = false;
const sockets: WebSocket[] = [];

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

function open(): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url!, { headers: { Authorization: `Bearer ${token}` }, perMessageDeflate: false });
    sockets.push(ws);
    ws.on('open', () => {
      ws.send(JSON.stringify({ id: 1, method: 'subscribe', params: { channel: 'predictions' } }));
    });
    ws.on('message', (d) => {
      if (d.toString().startsWith('{"id":1,"result"')) {
        connected++;
        resolve();
        ws.on('message', onMessage);
      }
    });
    ws.on('error', () => {
      errors++;
      resolve();
    });
    ws.on('close', () => {
      if (!stopping) closes++;
    });
  });
}

async function main(): Promise<void> {
  const pending: Promise<void>[] = [];
  const started = Date.now();
  for (let i = 0; i < count; i++) {
    const due = started + (i / ramp) * 1000;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    pending.push(open());
  }
  await Promise.all(pending);
  process.stdout.write(`connected ${connected}\n`);
}

process.on('SIGTERM', () => {
  stopping = true;
  for (const ws of sockets) ws.terminate();
  process.stdout.write(`${JSON.stringify({ connected, deliveries, latencies, errors, closes })}\n`, () => process.exit(0));
});

void main();
