/**
 * The fan-out tier's metrics (served at /metrics). Names follow the seed where it names
 * one (`websocket_connections_active`); per-delivery counters are plain numbers bumped in
 * the hot path and read at scrape time, as the processor's store metrics are.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class FanoutMetrics {
  readonly registry = new Registry();
  readonly connections = new Gauge({ name: 'websocket_connections_active', help: 'Open WebSocket connections.', registers: [this.registry] });
  readonly delivery = new Histogram({
    name: 'websocket_delivery_latency_ms',
    help: "From a record's Kafka timestamp to its write to a client (ms). For processor output the timestamp is the window's event time, so this includes processing; the bench stamps records when produced.",
    buckets: [0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 100, 250, 1000, 5000],
    registers: [this.registry],
  });
  readonly authFailures = new Counter({
    name: 'websocket_auth_failures_total',
    help: 'Upgrades refused for a missing or invalid token.',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'websocket_rejected_connections_total',
    help: 'Upgrades refused for a limit or the origin.',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly disconnects = new Counter({
    name: 'websocket_disconnects_total',
    help: 'Connections the server closed, by close code.',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly closed = new Counter({
    name: 'websocket_connections_closed_total',
    help: 'WebSocket connections that ended, whoever closed them (the client, the network or the server): the drops the seed alerts on.',
    registers: [this.registry],
  });
  readonly slowDisconnects = new Counter({
    name: 'websocket_slow_disconnects_total',
    help: 'Clients disconnected because their outbound buffer was full.',
    registers: [this.registry],
  });
  readonly undecodable = new Counter({
    name: 'fanout_records_undecodable_total',
    help: 'Records skipped because they could not be decoded.',
    labelNames: ['topic'],
    registers: [this.registry],
    // Several fan-out processes each read every record: the instance's count is one process's, not their sum.
    aggregator: 'max',
  });
  readonly resumes = new Counter({
    name: 'websocket_resumes_total',
    help: 'Subscriptions that resumed from a position, by where the missed records came from and whether the gap was fully recovered.',
    labelNames: ['from', 'recovered'],
    registers: [this.registry],
  });
  readonly resumesRefused = new Counter({
    name: 'websocket_resumes_refused_total',
    help: 'Resumes refused at once because too many were waiting to read Kafka (on the connection or in the process).',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readBackStats = (): { running: number; waiting: number } => ({ running: 0, waiting: 0 });
  private readonly sentCounts = new Map<string, number>();
  private readonly droppedCounts = new Map<string, number>();
  private readonly recordCounts = new Map<string, number>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const counts = (name: string, help: string, label: string, m: Map<string, number>, aggregator: 'sum' | 'max' = 'sum'): void => {
      new Counter({
        name,
        help,
        labelNames: [label],
        registers: [this.registry],
        aggregator,
        collect() {
          this.reset();
          for (const [k, v] of m) this.inc({ [label]: k }, v);
        },
      });
    };
    counts('websocket_messages_sent_total', 'Publications written to clients, by channel.', 'channel', this.sentCounts);
    counts(
      'websocket_messages_dropped_total',
      'Publications not delivered to a slow client (metrics: the oldest are dropped), by channel.',
      'channel',
      this.droppedCounts,
    );
    // Every fan-out process reads every record (cluster/): across processes the count is one process's.
    counts('fanout_records_total', 'Records read from Kafka, by topic.', 'topic', this.recordCounts, 'max');
    const readBacks = (): { running: number; waiting: number } => this.readBackStats();
    new Gauge({
      name: 'websocket_read_backs',
      help: 'Kafka read-backs of resumes, by state (running, waiting).',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        const { running, waiting } = readBacks();
        this.set({ state: 'running' }, running);
        this.set({ state: 'waiting' }, waiting);
      },
    });
  }

  /** Where websocket_read_backs is read from at scrape time. */
  watchReadBacks(stats: () => { running: number; waiting: number }): void {
    this.readBackStats = stats;
  }

  sent(channel: string, n = 1): void {
    this.sentCounts.set(channel, (this.sentCounts.get(channel) ?? 0) + n);
  }

  dropped(channel: string, n = 1): void {
    this.droppedCounts.set(channel, (this.droppedCounts.get(channel) ?? 0) + n);
  }

  record(topic: string): void {
    this.recordCounts.set(topic, (this.recordCounts.get(topic) ?? 0) + 1);
  }
}
