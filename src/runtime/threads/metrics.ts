/**
 * The instance's metrics when its stream threads are processes: each scrape asks every
 * thread for its registry and adds them up (prom-client's aggregation: sums, unless a
 * metric names its own aggregator). A metric of the main process's own registry is added
 * only when no thread reports it: the program runs in every process, so most of its
 * metrics exist in each, and the threads' are the ones that move.
 */
import { AggregatorRegistry, Registry } from 'prom-client';

/** One registry's metrics as getMetricsAsJSON() gives them (what crosses the IPC channel). */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

export class ThreadsRegistry extends Registry {
  constructor(
    private readonly threads: () => Promise<MetricsJson[]>,
    private readonly own: Registry | undefined,
  ) {
    super();
  }

  override async metrics(): Promise<string> {
    return (await this.aggregated()).metrics();
  }

  override async getMetricsAsJSON(): Promise<MetricsJson> {
    return (await this.aggregated()).getMetricsAsJSON();
  }

  private async aggregated(): Promise<Registry> {
    const parts = await this.threads();
    const reported = new Set(parts.flatMap((p) => p.map((m) => m.name)));
    const own = ((await this.own?.getMetricsAsJSON()) ?? []).filter((m) => !reported.has(m.name));
    return AggregatorRegistry.aggregate([...parts, own]);
  }
}

/** Metrics requests to the threads in flight, by id: each answered by its thread, or by what it said last once the wait is over. */
export class MetricsRequests {
  private next = 0;
  private readonly waiting = new Map<number, (m: MetricsJson) => void>();

  constructor(private readonly timeoutMs: number) {}

  ask(send: (id: number) => void, fallback: MetricsJson): Promise<MetricsJson> {
    return new Promise<MetricsJson>((resolve) => {
      const id = this.next++;
      const timer = setTimeout(() => done(fallback), this.timeoutMs);
      const done = (m: MetricsJson): void => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(m);
      };
      this.waiting.set(id, done);
      send(id);
    });
  }

  answered(id: number, metrics: MetricsJson): void {
    this.waiting.get(id)?.(metrics);
  }
}
