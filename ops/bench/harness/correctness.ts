/**
 * Do both sides compute the same? Each side's outputs over the same input are reduced to
 * what must agree whatever the commit timing:
 *   engine   — the multiset of (key, decoded summary): one output per input, nothing else;
 *   windowed — per output key (key@window start), the last count and the last sum;
 *   pipeline — per (entity, window start), the last prediction's features, score and flag.
 * Caching makes how many intermediate updates a window emits depend on when each side
 * commits, so only the last value per window is compared there.
 */
import avro from 'avsc';
import { loadSchema } from '../../../schemas/catalog';
import { SUMMARY_SCHEMA } from '../app/topologies';
import type { OutputRecord } from './outputs';
import type { ScenarioName } from './scenarios';

/** A side's outputs reduced for comparison: a key → a comparable value. */
export type Projection = Map<string, unknown>;

const decoder = (schema: object): ((b: Buffer | null) => unknown) => {
  const type = avro.Type.forSchema(schema as avro.Schema);
  // Confluent framing: magic byte 0 and a 4-byte schema id before the Avro body.
  return (b) => (b === null ? null : type.fromBuffer(b.subarray(5)));
};

function lastPerKey(records: readonly OutputRecord[], value: (r: OutputRecord) => unknown, key?: (v: unknown, r: OutputRecord) => string): Projection {
  const out: Projection = new Map();
  for (const r of records) {
    const v = value(r);
    out.set(key ? key(v, r) : (r.key?.toString() ?? ''), v);
  }
  return out;
}

/** Reduces one side's output topics (by role) to its projection. */
export function project(name: ScenarioName, outputs: Record<string, readonly OutputRecord[]>): Projection {
  if (name === 'engine') {
    const decode = decoder(SUMMARY_SCHEMA);
    const counts: Projection = new Map();
    for (const r of outputs.output ?? []) {
      const k = `${r.key?.toString('hex') ?? '-'} ${JSON.stringify(decode(r.value))}`;
      counts.set(k, ((counts.get(k) as number | undefined) ?? 0) + 1);
    }
    return counts;
  }
  if (name === 'windowed') {
    const out: Projection = new Map();
    for (const role of ['counts', 'sums']) for (const [k, v] of lastPerKey(outputs[role] ?? [], (r) => r.value?.toString() ?? null)) out.set(`${role} ${k}`, v);
    return out;
  }
  const decode = decoder(loadSchema('ml-prediction.avsc') as object);
  return lastPerKey(
    outputs.predictions ?? [],
    (r) => {
      const p = decode(r.value) as { entity_id: string; window_start: number; score: number; flagged: boolean; features: Record<string, number> };
      return { entity_id: p.entity_id, window_start: p.window_start, score: p.score, flagged: p.flagged, features: p.features };
    },
    (v) => {
      const p = v as { entity_id: string; window_start: number };
      return `${p.entity_id}@${p.window_start}`;
    },
  );
}

const close = (a: number, b: number, tolerance: number): boolean => Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(a), Math.abs(b));

function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return close(a, b, 1e-5);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

export interface Diff {
  keys: number;
  /** Up to `limit` differences, one line each. */
  differences: string[];
  differing: number;
}

/** Compares two projections: numbers within a relative 1e-5, everything else exactly. */
export function diff(a: Projection, b: Projection, names: [string, string], limit = 10): Diff {
  const differences: string[] = [];
  let differing = 0;
  const note = (line: string): void => {
    differing++;
    if (differences.length < limit) differences.push(line);
  };
  for (const [k, va] of a) {
    if (!b.has(k)) note(`${k}: only ${names[0]} has it (${JSON.stringify(va)})`);
    else if (!same(va, b.get(k))) note(`${k}: ${names[0]} ${JSON.stringify(va)} ≠ ${names[1]} ${JSON.stringify(b.get(k))}`);
  }
  for (const [k, vb] of b) if (!a.has(k)) note(`${k}: only ${names[1]} has it (${JSON.stringify(vb)})`);
  return { keys: new Set([...a.keys(), ...b.keys()]).size, differences, differing };
}
