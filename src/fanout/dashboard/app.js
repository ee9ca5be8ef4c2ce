// @ts-check
/**
 * The live dashboard: one WebSocket to the fan-out tier (docs/websocket-protocol.md),
 * subscribed to predictions (with the filter box's key prefix and minimum score),
 * alerts and metrics. It keeps the last position of every partition and resumes from
 * them after a reconnect, so a dropped connection loses nothing. The token comes from
 * `#token=<jwt>` in the URL, else from /dev/token when the server has development
 * tokens on.
 */
import { drawHistogram, drawLines } from './charts.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const ROWS = 50;
const state = {
  /** @type {WebSocket | undefined} */ ws: undefined,
  nextId: 1,
  /** @type {Map<number, (m: any) => void>} */ waiting: new Map(),
  /** channel → partition → last offset seen */
  positions: { predictions: {}, alerts: {}, metrics: {} },
  filter: /** @type {{ keyPrefix?: string, minScore?: number }} */ ({}),
  predictions: 0,
  alerts: 0,
  /** @type {number[]} */ scores: [],
  threshold: /** @type {number | undefined} */ (undefined),
  /** @type {[number, number][]} */ eventsPerSecond: [],
  /** @type {[number, number][]} */ latencyP95: [],
  /** @type {[number, number][]} */ receivedPerSecond: [],
  receivedThisSecond: 0,
  retryMs: 500,
};

function setConnection(/** @type {'connecting' | 'open' | 'closed'} */ s, text = s) {
  const el = $('connection');
  el.className = `state ${s}`;
  el.dataset.state = s;
  el.textContent = text;
}

/** The token: from `#token=` (it cannot be renewed here), else a fresh development token. */
async function token() {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromHash) {
    if (expiresAt(fromHash) <= Date.now()) throw new Error('the token in the URL has expired: open this page with a new #token=<jwt>');
    return fromHash;
  }
  const res = await fetch('/dev/token?channels=*');
  if (!res.ok) throw new Error('no token: open this page with #token=<jwt> (development tokens are off on this server)');
  return (await res.json()).token;
}

function expiresAt(/** @type {string} */ jwt) {
  try {
    return JSON.parse(atob(jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).exp * 1000;
  } catch {
    return Infinity; // not readable here: the server decides
  }
}

function request(/** @type {string} */ method, /** @type {object} */ params) {
  const ws = state.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.resolve({ error: { code: 'SA_ERR_WS_UNAVAILABLE', message: 'not connected' } });
  const id = state.nextId++;
  return new Promise((resolve) => {
    state.waiting.set(id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });
}

async function subscribe(/** @type {'predictions' | 'alerts' | 'metrics'} */ channel, filter = {}) {
  const known = state.positions[channel];
  const recover = Object.keys(known).length > 0 ? { positions: known } : undefined;
  const reply = await request('subscribe', { channel, ...(Object.keys(filter).length ? { filter } : {}), ...(recover ? { recover } : {}) });
  if (reply.error) throw Object.assign(new Error(`${reply.error.code}: ${reply.error.message}`), { temporary: reply.error.temporary === true });
  for (const [p, o] of Object.entries(reply.result.positions)) if (known[p] === undefined) known[p] = o;
  for (const pub of reply.result.publications ?? []) onPub(channel, pub);
  return reply.result;
}

async function connect() {
  setConnection('connecting', 'connecting…');
  let jwt;
  try {
    jwt = await token();
  } catch (err) {
    return setConnection('closed', String(/** @type {Error} */ (err).message));
  }
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`, ['sa.v1', `bearer.${jwt}`]);
  state.ws = ws;
  ws.onopen = async () => {
    state.retryMs = 500;
    try {
      await subscribe('predictions', state.filter);
      await subscribe('alerts');
      await subscribe('metrics');
      setConnection('open', 'live');
    } catch (err) {
      setConnection('closed', String(/** @type {Error} */ (err).message));
      if (/** @type {{temporary?: boolean}} */ (err).temporary) ws.close(); // busy or unavailable: reconnect after the backoff, resuming from the positions kept
    }
  };
  ws.onmessage = (e) => {
    for (const line of String(e.data).split('\n')) if (line) onMessage(JSON.parse(line));
  };
  ws.onclose = (e) => {
    for (const resolve of state.waiting.values()) resolve({ error: { code: 'SA_ERR_WS_UNAVAILABLE', message: 'disconnected' } });
    state.waiting.clear();
    let reconnect = e.code !== 1009;
    try {
      reconnect = JSON.parse(e.reason).reconnect !== false;
    } catch {
      /* no JSON reason: a network drop, or the upgrade was refused */
    }
    setConnection('closed', `disconnected (${e.code})${reconnect ? ', reconnecting…' : ''}`);
    if (reconnect) setTimeout(connect, (state.retryMs = Math.min(10_000, state.retryMs * 2)));
  };
}

function onMessage(/** @type {any} */ m) {
  if (m.id !== undefined) {
    state.waiting.get(m.id)?.(m);
    state.waiting.delete(m.id);
    return;
  }
  if (m.push?.pub) return onPub(m.push.channel, m.push.pub);
  if (m.push?.refresh) return void refresh();
}

async function refresh() {
  try {
    const reply = await request('refresh', { token: await token() });
    if (reply.error) setConnection('closed', `token refresh failed: ${reply.error.message}`);
  } catch (err) {
    setConnection('closed', String(/** @type {Error} */ (err).message));
  }
}

function onPub(/** @type {string} */ channel, /** @type {any} */ pub) {
  const base = /** @type {'predictions' | 'alerts' | 'metrics'} */ (channel.split(':')[0]);
  const known = state.positions[base];
  known[pub.partition] = Math.max(known[pub.partition] ?? -1, pub.offset);
  if (base === 'predictions') return onPrediction(pub);
  if (base === 'alerts') return onAlert(pub.data);
  onSummary(pub.data);
}

function onPrediction(/** @type {any} */ pub) {
  const p = pub.data;
  state.predictions++;
  state.receivedThisSecond++;
  state.threshold = p.threshold;
  state.scores.push(p.score);
  if (state.scores.length > 2000) state.scores.shift();
  $('prediction-count').textContent = `${state.predictions.toLocaleString()} received`;
  queueDraw();
  const latency = Date.now() - p.event_time;
  prepend(
    'predictions',
    [
      p.entity_id,
      new Date(p.window_start).toISOString().slice(11, 16),
      p.score.toFixed(3),
      p.label,
      `${p.model_name} v${p.model_version}`,
      String(p.features?.events ?? ''),
      `${latency.toLocaleString()} ms`,
    ],
    p.flagged,
  );
}

/** An alert is re-raised each time its window is scored again: one row per alert_id, moved to the top. */
const alertRows = new Map();

function onAlert(/** @type {any} */ a) {
  state.alerts++;
  $('alert-count').textContent = `${state.alerts.toLocaleString()} received, ${alertRows.size.toLocaleString()} distinct`;
  alertRows.get(a.alert_id)?.remove();
  const row = prepend('alerts', [a.entity_id, a.severity, a.score.toFixed(3), a.message], true);
  alertRows.set(a.alert_id, row);
  for (const [id, r] of alertRows) if (!r.isConnected) alertRows.delete(id);
}

/** Summaries come per task and interval: tasks' rates add up, the slowest task's p95 is shown. */
const intervals = new Map();

function onSummary(/** @type {any} */ s) {
  if (typeof s?.to !== 'number') return;
  const at = Math.round(s.to / 1000) * 1000;
  const i = intervals.get(at) ?? { eps: 0, p95: 0 };
  i.eps += s.events_per_second;
  if (s.latency_ms) i.p95 = Math.max(i.p95, s.latency_ms.p95);
  intervals.set(at, i);
  const recent = [...intervals.entries()].sort((a, b) => a[0] - b[0]).slice(-200);
  for (const [t] of intervals) if (t < recent[0][0]) intervals.delete(t);
  state.eventsPerSecond = recent.map(([t, v]) => [t, v.eps]);
  state.latencyP95 = recent.filter(([, v]) => v.p95 > 0).map(([t, v]) => [t, v.p95]);
  queueDraw();
}

function prepend(/** @type {string} */ table, /** @type {string[]} */ cells, /** @type {boolean} */ flagged) {
  const body = /** @type {HTMLTableSectionElement} */ ($(table).querySelector('tbody'));
  const row = body.insertRow(0);
  if (flagged) row.className = 'flagged';
  for (const c of cells) row.insertCell().textContent = c;
  while (body.rows.length > ROWS) body.deleteRow(-1);
  return row;
}

let drawQueued = false;
/** Redraws on the next frame (at most once a frame, however many records arrive). */
function queueDraw() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => {
    drawQueued = false;
    draw();
  });
}

function draw() {
  const bins = new Array(20).fill(0);
  for (const s of state.scores) bins[Math.min(19, Math.floor(s * 20))]++;
  const scores = /** @type {HTMLCanvasElement} */ ($('scores'));
  drawHistogram(scores, bins, state.threshold);
  scores.dataset.count = String(state.scores.length);
  const throughput = /** @type {HTMLCanvasElement} */ ($('throughput'));
  throughput.dataset.summaries = String(state.eventsPerSecond.length);
  drawLines(throughput, [
    { name: 'events/s (processor)', color: '#4aa3ff', points: state.eventsPerSecond, unit: 'events/s' },
    { name: 'p95 latency (processor)', color: '#d29922', points: state.latencyP95, unit: 'ms' },
    { name: 'predictions/s here', color: '#3fb950', points: state.receivedPerSecond, unit: '/s' },
  ]);
}

setInterval(() => {
  state.receivedPerSecond.push([Date.now(), state.receivedThisSecond]);
  state.receivedThisSecond = 0;
  while (state.receivedPerSecond.length > 120) state.receivedPerSecond.shift();
  draw();
}, 1000);

$('filter').addEventListener('submit', async (e) => {
  e.preventDefault();
  const keyPrefix = /** @type {HTMLInputElement} */ ($('keyPrefix')).value.trim();
  const minScore = /** @type {HTMLInputElement} */ ($('minScore')).value.trim();
  state.filter = { ...(keyPrefix ? { keyPrefix } : {}), ...(minScore ? { minScore: Number(minScore) } : {}) };
  const status = $('filter-status');
  await request('unsubscribe', { channel: 'predictions' });
  state.positions.predictions = {}; // a new filter starts live, not from where the old one was
  try {
    await subscribe('predictions', state.filter);
    status.textContent = Object.keys(state.filter).length ? `filter: ${JSON.stringify(state.filter)}` : 'no filter';
    status.dataset.applied = JSON.stringify(state.filter);
    /** @type {HTMLTableSectionElement} */ ($('predictions').querySelector('tbody')).replaceChildren();
  } catch (err) {
    status.textContent = String(/** @type {Error} */ (err).message);
  }
});

void connect();
