/** Every model call of the Node side timed, drained by the harness between phases. */
import type { ModelSource } from '../../../src/inference/predict';
import type { OnnxModel } from '../../../src/inference/onnx-model';

/** What the harness reads: per-batch milliseconds and rows of each call since the last drain. */
export interface ModelCallStats {
  calls: number;
  rows: number;
  batchMs: number[];
}

export class ModelCalls {
  private ms: number[] = [];
  private rows = 0;

  /** The serving model, each `score` call timed. */
  timed(source: ModelSource): ModelSource {
    return {
      current: () => {
        const model = source.current();
        return new Proxy(model, {
          get: (target, prop, receiver) => {
            if (prop !== 'score') return Reflect.get(target, prop, receiver) as unknown;
            return (input: Float32Array, n: number) => {
              const started = performance.now();
              const out = target.score(input, n);
              this.ms.push(performance.now() - started);
              this.rows += n;
              return out;
            };
          },
        }) as OnnxModel;
      },
    };
  }

  drain(): ModelCallStats {
    const stats = { calls: this.ms.length, rows: this.rows, batchMs: this.ms };
    this.ms = [];
    this.rows = 0;
    return stats;
  }
}
