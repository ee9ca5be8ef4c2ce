/**
 * A circuit breaker for calls to a remote dependency (the model registry): after
 * `failureThreshold` failures in a row it opens, and calls fail at once — without
 * touching the dependency — for `openMs`; then one trial call is let through
 * (half-open): success closes the circuit, failure opens it again. The state machine
 * has three states and guarded transitions, like the transaction state machine.
 */
import { StreamingError } from '../errors';

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  name: string;
  failureThreshold?: number;
  openMs?: number;
  clock?: () => number;
  onStateChange?: (state: CircuitState) => void;
}

export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private trialRunning = false;

  constructor(private readonly o: CircuitBreakerOptions) {}

  get state(): CircuitState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.openMs) return 'half-open';
    return this.current;
  }

  /** Runs `call` unless the circuit is open; its failures count towards opening it. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    const state = this.state;
    if (state === 'open' || (state === 'half-open' && this.trialRunning)) {
      const retryIn = Math.max(0, this.openMs - (this.now() - this.openedAt));
      throw new StreamingError(
        'SA_ERR_MODEL_REGISTRY_UNAVAILABLE',
        `${this.o.name}: circuit open after ${this.failures} failures in a row; not calling it for another ${Math.ceil(retryIn / 1000)} s`,
        { hint: 'the serving model keeps serving; check that the registry is reachable' },
      );
    }
    if (state === 'half-open') {
      this.trialRunning = true;
      this.move('half-open');
    }
    try {
      const result = await call();
      this.failures = 0;
      this.move('closed');
      return result;
    } catch (err) {
      this.failures++;
      if (state === 'half-open' || this.failures >= (this.o.failureThreshold ?? 3)) {
        this.openedAt = this.now();
        this.move('open');
      }
      throw err;
    } finally {
      if (state === 'half-open') this.trialRunning = false;
    }
  }

  private get openMs(): number {
    return this.o.openMs ?? 30_000;
  }

  private now(): number {
    return (this.o.clock ?? Date.now)();
  }

  private move(to: CircuitState): void {
    if (this.current === to) return;
    this.current = to;
    this.o.onStateChange?.(to);
  }
}
