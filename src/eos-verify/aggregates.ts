/**
 * The verifier's check of the running aggregates (Kafka's EosTestDriver verifies `sum`
 * and `min` the same way): from the input, in offset order, recompute every value the
 * application must have emitted per key; the output read_committed must be exactly that
 * sequence. A lost input shows as a missing or wrong value, a duplicate as an extra one.
 */
export interface KeyedValue {
  key: string;
  value: string;
}

export interface AggregateCheck {
  name: string;
  expected: number;
  actual: number;
  /** Keys whose output sequence differs from the recomputed one. */
  wrongKeys: number;
  /** The first difference, for the report. */
  firstProblem: string | undefined;
}

export const FOLDS = {
  sum: (agg: number | undefined, v: number): number => (agg ?? 0) + v,
  min: (agg: number | undefined, v: number): number => (agg === undefined ? v : Math.min(agg, v)),
};

/** Input records in offset order (a key lives on one partition, so per-key order is kept). */
export function checkRunning(name: keyof typeof FOLDS, input: readonly KeyedValue[], output: readonly KeyedValue[]): AggregateCheck {
  const fold = FOLDS[name];
  const expected = new Map<string, string[]>();
  const current = new Map<string, number>();
  for (const r of input) {
    const next = fold(current.get(r.key), Number(r.value));
    current.set(r.key, next);
    push(expected, r.key, String(next));
  }
  const actual = new Map<string, string[]>();
  for (const r of output) push(actual, r.key, r.value);
  let wrongKeys = 0;
  let firstProblem: string | undefined;
  for (const key of new Set([...expected.keys(), ...actual.keys()])) {
    const want = expected.get(key) ?? [];
    const got = actual.get(key) ?? [];
    const at = firstDifference(want, got);
    if (at === -1) continue;
    wrongKeys++;
    firstProblem ??= `${name} of key ${key}: expected ${want.length} values, got ${got.length}; first difference at #${at + 1}: expected ${want[at] ?? '(nothing)'}, got ${got[at] ?? '(nothing)'}`;
  }
  return { name, expected: input.length, actual: output.length, wrongKeys, firstProblem };
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function firstDifference(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}
