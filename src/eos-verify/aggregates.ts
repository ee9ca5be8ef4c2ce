/**
 * The verifier's check of the running aggregates (Kafka's EosTestDriver verifies `sum`
 * and `min` the same way): from the input, in offset order, recompute every value the
 * application must have emitted per key. An aggregation that emits every update must
 * have written exactly that sequence (read_committed): a lost input shows as a missing or
 * wrong value, a duplicate as an extra one. One that emits through its cache writes one
 * update per key per commit, so its output must be part of that sequence, in order, and
 * end at the final value: a lost or duplicated input changes every later running value
 * (the verifier's values are distinct sequence numbers), so the last one cannot match.
 */
import { SerdeError } from '../serdes';

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
export function checkRunning(
  name: keyof typeof FOLDS,
  input: readonly KeyedValue[],
  output: readonly KeyedValue[],
  emits: 'every-update' | 'through-cache' = 'every-update',
): AggregateCheck {
  const fold = FOLDS[name];
  const expected = new Map<string, string[]>();
  const current = new Map<string, number>();
  for (const r of input) {
    const next = fold(current.get(r.key), sequenceNumber(r));
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
    const problem = emits === 'every-update' ? sequenceProblem(want, got) : subsequenceProblem(want, got);
    if (problem === undefined) continue;
    wrongKeys++;
    firstProblem ??= `${name} of key ${key}: ${problem}`;
  }
  return { name, expected: input.length, actual: output.length, wrongKeys, firstProblem };
}

/** The driver writes sequence numbers: anything else in the input (a stray or crafted record) would make every check meaningless. */
function sequenceNumber(r: KeyedValue): number {
  const v = Number(r.value);
  if (!/^-?\d{1,16}$/.test(r.value) || !Number.isSafeInteger(v))
    throw new SerdeError(
      'eos-verify',
      `input value "${r.value.slice(0, 40)}" of key "${r.key.slice(0, 40)}" is not a sequence number (a whole number): the input holds records the verifier did not write`,
    );
  return v;
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function sequenceProblem(want: readonly string[], got: readonly string[]): string | undefined {
  for (let i = 0; i < Math.max(want.length, got.length); i++) {
    if (want[i] !== got[i])
      return `expected ${want.length} values, got ${got.length}; first difference at #${i + 1}: expected ${want[i] ?? '(nothing)'}, got ${got[i] ?? '(nothing)'}`;
  }
  return undefined;
}

function subsequenceProblem(want: readonly string[], got: readonly string[]): string | undefined {
  let at = 0;
  for (let i = 0; i < got.length; i++) {
    while (at < want.length && want[at] !== got[i]) at++;
    if (at === want.length) return `output #${i + 1} (${got[i]}) is not a later running value of the ${want.length} recomputed from the input`;
    at++;
  }
  if (want.length > 0 && got[got.length - 1] !== want[want.length - 1])
    return `the last output is ${got[got.length - 1] ?? '(nothing)'}, the final running value is ${want[want.length - 1]}`;
  return undefined;
}
