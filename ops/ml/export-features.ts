/**
 * Training data for the anomaly model: events from the seeded generator, folded into
 * 1-minute tumbling windows per entity with the topology's own feature code
 * (topologies/features.ts), one CSV row per entity and window, labelled 1 when any event
 * of the window was part of an anomaly. Writes ops/ml/build/features.csv and
 * features.json (the feature specs, for the model's metadata).
 *
 *   tsx ops/ml/export-features.ts [--seed N] [--entities N] [--minutes N]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventGenerator } from '../../src/generator/events';
import { addEvent, emptyAggregate, featureVector, FEATURES, type WindowAggregate } from '../../topologies/features';

const WINDOW_MS = 60_000;

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at < 0 ? fallback : Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value <= 0) {
    process.stderr.write(`--${name} must be a whole number > 0\n`);
    process.exit(2);
  }
  return value;
}

const seed = option('seed', 42);
const entities = option('entities', 3_000);
const minutes = option('minutes', 120);
const start = Date.UTC(2026, 0, 1);
const events = new EventGenerator({ seed, entities, startMs: start }).eventsBetween(start, start + minutes * WINDOW_MS);

const windows = new Map<string, { aggregate: WindowAggregate; anomalous: boolean }>();
for (const e of events) {
  const key = `${e.entity_id}@${Math.floor(e.event_time / WINDOW_MS)}`;
  let w = windows.get(key);
  if (!w) windows.set(key, (w = { aggregate: emptyAggregate(), anomalous: false }));
  addEvent(w.aggregate, e);
  w.anomalous ||= e.anomalous;
}

const names = FEATURES.map((f) => f.name);
const rows = [[...names, 'label'].join(',')];
let positives = 0;
for (const w of windows.values()) {
  const v = featureVector(w.aggregate, WINDOW_MS);
  rows.push([...names.map((n) => v[n]), w.anomalous ? 1 : 0].join(','));
  if (w.anomalous) positives++;
}
const dir = join(__dirname, 'build');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'features.csv'), `${rows.join('\n')}\n`);
writeFileSync(join(dir, 'features.json'), `${JSON.stringify({ seed, entities, minutes, windowMs: WINDOW_MS, features: FEATURES }, null, 2)}\n`);
process.stdout.write(`${events.length} events → ${windows.size} entity windows (${positives} anomalous) → ${join(dir, 'features.csv')}\n`);
