/**
 * Feature validation: a record's features are checked against the model's metadata
 * before it is scored — every feature present, a finite number, whole where the type is
 * 'int', inside its range. A vector that fails is not scored: the caller sends the record
 * to the dead-letter topic with the reason (the model would answer it, but the answer
 * would mean nothing).
 */
import type { FeatureSpec } from './metadata';

export type FeatureValues = Readonly<Record<string, number | null | undefined>>;

/**
 * Writes the features, in the model's order, into `out` at `offset`; returns why the
 * vector is invalid (naming the first bad feature), or undefined when it was written.
 */
export function writeFeatures(specs: readonly FeatureSpec[], values: FeatureValues, out: Float32Array, offset: number): string | undefined {
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i]!;
    const v = values[spec.name];
    if (v === undefined || v === null) return `feature "${spec.name}" is missing`;
    if (typeof v !== 'number' || !Number.isFinite(v)) return `feature "${spec.name}" is ${String(v)}, not a finite number`;
    if (spec.type === 'int' && !Number.isInteger(v)) return `feature "${spec.name}" is ${v}, not a whole number`;
    if (v < spec.min || v > spec.max) return `feature "${spec.name}" is ${v}, outside its valid range [${spec.min}, ${spec.max}]`;
    out[offset + i] = v;
  }
  return undefined;
}
