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
