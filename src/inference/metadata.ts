/**
 * A model's metadata file (`metadata.json`, beside `model.onnx`): what the model is
 * called, its version, the ordered features it takes (with their valid ranges), the ONNX
 * tensors to feed and read, and the decision threshold. It is checked whole when a model
 * loads; a bad file is refused with every problem named, never half-used.
 */
import { StreamingError } from '../errors';

export interface FeatureSpec {
  name: string;
  /** 'int' features must be whole numbers; both are fed as float32. */
  type: 'float' | 'int';
  /** Valid range, inclusive; a value outside it is refused before scoring. */
  min: number;
  max: number;
}

export interface ModelMetadata {
  name: string;
  version: string;
  description?: string;
  /** The ONNX input tensor: one float32 row of `features.length` values per record. */
  input: string;
  /** The ONNX output tensor of class probabilities ([rows, 2]); column 1 is the positive class. */
  probabilities: string;
  features: FeatureSpec[];
  /** A score ≥ threshold is labelled positive (and raises an alert). */
  threshold: number;
  positiveLabel: string;
  negativeLabel: string;
}

const NAME = /^[A-Za-z0-9._-]{1,100}$/;
/** Bounds of what a metadata file may declare: a real model has tens of features and short names. */
const MAX_FEATURES = 1000;
const MAX_TEXT = 200;

/** Parses and checks a metadata document; `where` names the file in errors. */
export function parseMetadata(raw: unknown, where: string): ModelMetadata {
  const problems: string[] = [];
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  if (o !== raw) problems.push('it is not a JSON object');
  const text = (field: string, pattern?: RegExp): string => {
    const v = o[field];
    if (typeof v !== 'string' || v.length === 0 || v.length > MAX_TEXT)
      problems.push(`"${field}" must be a non-empty string of at most ${MAX_TEXT} characters`);
    else if (pattern && !pattern.test(v)) problems.push(`"${field}" (${v}) may contain only letters, digits, ".", "_" and "-"`);
    return typeof v === 'string' ? v : '';
  };
  const name = text('name', NAME);
  const version = text('version', NAME);
  const input = text('input');
  const probabilities = text('probabilities');
  const threshold = o.threshold;
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold < 1)) problems.push('"threshold" must be a number between 0 and 1 (exclusive)');
  const label = (field: string, fallback: string): string => {
    const v = o[field];
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || v.length === 0 || v.length > MAX_TEXT)
      problems.push(`"${field}" must be a non-empty string of at most ${MAX_TEXT} characters`);
    return typeof v === 'string' ? v : fallback;
  };
  const positiveLabel = label('positiveLabel', 'anomaly');
  const negativeLabel = label('negativeLabel', 'normal');
  const features = parseFeatures(o.features, problems);
  if (problems.length > 0) {
    throw new StreamingError(
      'SA_ERR_MODEL_INVALID',
      `model metadata ${where} is invalid: ${problems.slice(0, 20).join('; ')}${problems.length > 20 ? `; and ${problems.length - 20} more` : ''}`,
      {
        hint: 'see docs/inference.md for the metadata format; ops/ml/train.py writes a valid one',
      },
    );
  }
  return {
    name,
    version,
    ...(typeof o.description === 'string' ? { description: o.description } : {}),
    input,
    probabilities,
    features,
    threshold: threshold as number,
    positiveLabel,
    negativeLabel,
  };
}

function parseFeatures(raw: unknown, problems: string[]): FeatureSpec[] {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_FEATURES) {
    problems.push(`"features" must be an array of 1 to ${MAX_FEATURES} {name, type, min, max}`);
    return [];
  }
  const seen = new Set<string>();
  return raw.map((f: unknown, i) => {
    const spec = (typeof f === 'object' && f !== null ? f : {}) as Record<string, unknown>;
    const at = `features[${i}]`;
    if (typeof spec.name !== 'string' || spec.name === '' || spec.name.length > MAX_TEXT)
      problems.push(`${at}.name must be a non-empty string of at most ${MAX_TEXT} characters`);
    else if (seen.has(spec.name)) problems.push(`${at}.name "${spec.name}" appears twice`);
    else seen.add(spec.name);
    if (spec.type !== 'float' && spec.type !== 'int') problems.push(`${at}.type must be "float" or "int"`);
    // JSON turns 1e400 into Infinity: a range must be finite, or it checks nothing.
    if (!Number.isFinite(spec.min) || !Number.isFinite(spec.max) || !((spec.min as number) <= (spec.max as number)))
      problems.push(`${at} needs finite numbers min ≤ max`);
    return { name: String(spec.name), type: spec.type === 'int' ? 'int' : 'float', min: Number(spec.min), max: Number(spec.max) };
  });
}
