/**
 * Waiting for the schema registry. Without it a batch cannot be decoded nor an output
 * schema registered, so an outage costs waiting, never the instance: back off with
 * jitter (instances do not retry in step), up to a maximum (the processor's 30 s keeps its
 * consumer polling well within max.poll.interval.ms; the fan-out's is shorter, for
 * latency), say what is awaited for /readyz meanwhile, log each attempt, and say when it
 * answers again. A close wakes the back-off at once.
 */
import type { Logger } from '../logger';
import { registryStatus, registryUnavailable } from './registry-errors';

export class RegistryWait {
  /** What processing waits for, while it waits: /readyz answers 503 with it. */
  waitingFor: string | undefined;
  private attempts = 0;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly log: Logger,
    private readonly maxDelayMs = 30_000,
  ) {}

  /** One back-off step after a failure while `what`. */
  async backOff(err: unknown, what: string): Promise<void> {
    const attempt = ++this.attempts;
    const base = Math.min(this.maxDelayMs, 250 * 2 ** Math.min(attempt - 1, 7));
    const delayMs = Math.round(base / 2 + Math.random() * (base / 2));
    const refused = registryStatus(err) === 401;
    const state = refused ? 'refuses the credentials (401: check STREAMING_SCHEMA_REGISTRY__USERNAME and __PASSWORD)' : 'does not answer';
    this.waitingFor = `the schema registry ${state} (${what}; attempt ${attempt}, retrying)`;
    this.log.warn({ err, attempt, retryInMs: delayMs }, `the schema registry ${state} (${what}); waiting for it, not ready meanwhile`);
    if (this.stopped) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delayMs);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
  }

  /** The registry answered: readiness no longer waits for it. */
  answered(): void {
    if (this.attempts === 0) return;
    this.log.info({ attempts: this.attempts }, 'the schema registry answers again');
    this.attempts = 0;
    this.waitingFor = undefined;
  }

  /**
   * Runs `step` until it succeeds; a failure other than the registry not answering or
   * refusing the credentials (which may be rotated in) — or a stop — is thrown.
   */
  async until(what: string, step: () => Promise<void>): Promise<void> {
    for (;;) {
      try {
        await step();
        return this.answered();
      } catch (err) {
        if (!(registryUnavailable(err) || registryStatus(err) === 401) || this.stopped) throw err;
        await this.backOff(err, what);
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }
}
