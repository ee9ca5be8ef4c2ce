/**
 * A seeded generator of realistic analytics events (the `analytics-events` schema): a
 * population of entities, most of them people browsing in sessions, a few behaving
 * abnormally in bursts — card testing (many small purchases from many countries),
 * credential stuffing (waves of failed logins from many addresses) and scraping (page
 * views far faster than a person reads). The same seed gives the same events, so the
 * training data (ops/ml) and the tests are reproducible; `npm run generate` and
 * `npm start` use it as the live source. Each event says whether it is part of an
 * anomaly (`anomalous`), which training uses as the label and the topology never reads.
 */
import type { AnalyticsEvent, EventType } from '../../topologies/event';

/** mulberry32: small, fast, good enough for simulation, and seedable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Behaviour = 'normal' | 'card-testing' | 'credential-stuffing' | 'scraping';

export interface GeneratedEvent extends AnalyticsEvent {
  /** Ground truth for training; not part of the Avro record. */
  anomalous: boolean;
}

export interface GeneratorOptions {
  seed: number;
  entities: number;
  /** Share of entities that misbehave at times (default 0.04). */
  anomalousShare?: number;
  /** Simulated start time (ms). */
  startMs: number;
}

const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'NL', 'SE', 'PL', 'ES', 'IT', 'BR', 'IN', 'JP', 'NG', 'RU', 'VN', 'ID'];
const PAGES = ['/', '/search', '/product', '/cart', '/account', '/help', '/deals'];

interface Entity {
  id: string;
  behaviour: Behaviour;
  home: string;
  /** When this entity's next burst (session or attack) starts. */
  next: number;
  /** Events of the current burst still to emit, and their spacing. */
  pending: number;
  gapMs: [number, number];
  session: number;
  attack: boolean;
}

export class EventGenerator {
  private readonly random: () => number;
  /** Entities in a binary min-heap by the time of their next event. */
  private readonly heap: Entity[];
  private sequence = 0;

  constructor(private readonly o: GeneratorOptions) {
    this.random = prng(o.seed);
    const share = o.anomalousShare ?? 0.04;
    const kinds: Behaviour[] = ['card-testing', 'credential-stuffing', 'scraping'];
    this.heap = Array.from({ length: o.entities }, (_, i) => {
      const behaviour: Behaviour = this.random() < share ? kinds[Math.floor(this.random() * kinds.length)]! : 'normal';
      return {
        id: `entity-${String(i).padStart(6, '0')}`,
        behaviour,
        home: this.pick(COUNTRIES.slice(0, 8)),
        next: o.startMs + this.random() * 600_000,
        pending: 0,
        gapMs: [1_000, 1_000],
        session: 0,
        attack: false,
      };
    });
    this.heap.sort((a, b) => a.next - b.next); // a sorted array is a heap
  }

  /**
   * The events of every entity with event time in [from, to), in time order; events
   * before `from` are generated and dropped (`eventsBetween(t, t)` fast-forwards to t).
   * Calls must move forward in time.
   */
  eventsBetween(from: number, to: number): GeneratedEvent[] {
    const out: GeneratedEvent[] = [];
    while (this.heap.length > 0 && this.heap[0]!.next < to) {
      const e = this.heap[0]!;
      const keep = e.next >= from;
      const event = this.emit(e);
      if (keep) out.push(event);
      this.siftDown(0);
    }
    return out;
  }

  private siftDown(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let least = i;
      if (l < h.length && h[l]!.next < h[least]!.next) least = l;
      if (r < h.length && h[r]!.next < h[least]!.next) least = r;
      if (least === i) return;
      [h[i], h[least]] = [h[least]!, h[i]!];
      i = least;
    }
  }

  private emit(e: Entity): GeneratedEvent {
    if (e.pending === 0) this.startBurst(e);
    const time = Math.floor(e.next);
    e.pending--;
    const event = e.attack ? this.attackEvent(e, time) : this.sessionEvent(e, time);
    e.next = e.pending > 0 ? e.next + this.between(e.gapMs) : e.next + this.pause(e);
    return event;
  }

  private startBurst(e: Entity): void {
    e.session++;
    // Misbehaving entities also browse normally; about one burst in three is an attack.
    e.attack = e.behaviour !== 'normal' && this.random() < 0.35;
    if (!e.attack) {
      e.pending = 3 + Math.floor(this.random() * (this.random() < 0.1 ? 60 : 20)); // some heavy users
      e.gapMs = [1_500, 25_000];
    } else if (e.behaviour === 'card-testing') {
      e.pending = 6 + Math.floor(this.random() * 30);
      e.gapMs = [800, 4_000];
    } else if (e.behaviour === 'credential-stuffing') {
      e.pending = 10 + Math.floor(this.random() * 80);
      e.gapMs = [150, 1_500];
    } else {
      e.pending = 40 + Math.floor(this.random() * 300);
      e.gapMs = [80, 600];
    }
  }

  /** Time to the next burst: people come back after minutes; attacks recur less often. */
  private pause(e: Entity): number {
    return (e.attack ? 600_000 : 120_000) + this.random() * (e.attack ? 1_800_000 : 900_000);
  }

  private sessionEvent(e: Entity, time: number): GeneratedEvent {
    const r = this.random();
    const type: EventType =
      r < 0.5
        ? 'PAGE_VIEW'
        : r < 0.7
          ? 'CLICK'
          : r < 0.82
            ? 'SEARCH'
            : r < 0.88
              ? 'ADD_TO_CART'
              : r < 0.91
                ? 'CHECKOUT'
                : r < 0.935
                  ? 'PURCHASE'
                  : r < 0.96
                    ? 'LOGIN'
                    : r < 0.97
                      ? 'LOGIN_FAILED'
                      : r < 0.985
                        ? 'LOGOUT'
                        : 'ERROR';
    const value = type === 'PURCHASE' || type === 'CHECKOUT' ? Math.round(Math.exp(3.2 + this.gauss() * 0.8) * 100) / 100 : null;
    return this.event(
      e,
      type,
      time,
      value,
      this.random() < 0.03 ? this.pick(COUNTRIES) : e.home,
      `10.${e.session % 250}.${Number(e.id.slice(-3)) % 250}.7`,
      false,
    );
  }

  private attackEvent(e: Entity, time: number): GeneratedEvent {
    const country = this.pick(COUNTRIES);
    const ip = `${50 + Math.floor(this.random() * 150)}.${Math.floor(this.random() * 250)}.${Math.floor(this.random() * 250)}.${Math.floor(this.random() * 250)}`;
    if (e.behaviour === 'card-testing')
      return this.event(e, this.random() < 0.85 ? 'PURCHASE' : 'CHECKOUT', time, Math.round((0.5 + this.random() * 4.5) * 100) / 100, country, ip, true);
    if (e.behaviour === 'credential-stuffing') return this.event(e, this.random() < 0.9 ? 'LOGIN_FAILED' : 'LOGIN', time, null, country, ip, true);
    return this.event(e, this.random() < 0.92 ? 'PAGE_VIEW' : 'SEARCH', time, null, e.home, `10.0.${e.session % 250}.9`, true);
  }

  private event(e: Entity, type: EventType, time: number, value: number | null, country: string, ip: string, anomalous: boolean): GeneratedEvent {
    const n = this.sequence++;
    return {
      event_id: uuidFrom(this.o.seed, n),
      event_type: type,
      entity_id: e.id,
      user_id: e.id.replace('entity', 'user'),
      session_id: `${e.id}-s${e.session}`,
      event_time: time,
      value,
      currency: value === null ? null : 'USD',
      metrics: { latency_ms: Math.round(20 + this.random() * 200) },
      properties: { country, ip, page: this.pick(PAGES) },
      source: 'generator',
      schema_version: 1,
      anomalous,
    };
  }

  private between([lo, hi]: [number, number]): number {
    return lo + this.random() * (hi - lo);
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)]!;
  }

  private gauss(): number {
    return Math.sqrt(-2 * Math.log(1 - this.random())) * Math.cos(2 * Math.PI * this.random());
  }
}

/** A deterministic UUID (version 4 layout) from the seed and a sequence number (its own hash: it draws nothing from the event stream's generator). */
function uuidFrom(seed: number, n: number): string {
  let x = (seed ^ Math.imul(n + 1, 0x9e3779b1)) >>> 0;
  let hex = '';
  for (let i = 0; i < 4; i++) {
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
    x = (x ^ (x >>> 16)) >>> 0;
    hex += x.toString(16).padStart(8, '0');
  }
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
