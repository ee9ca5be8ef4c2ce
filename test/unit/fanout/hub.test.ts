import { strict as assert } from 'node:assert';
import type { Publication } from '../../../src/fanout/history';
import { Hub, matches, type Subscription } from '../../../src/fanout/hub';
import type { Filter } from '../../../src/fanout/protocol';
import { mulberry32 } from '../../support/prng';

const KEYS = ['', 'a', 'ab', 'abc', 'b', 'ba', 'tenant-1/x', 'tenant-1/y', 'tenant-2/x', 'é', 'a'.repeat(300)];
const PREFIXES = ['', 'a', 'ab', 'abc', 'b', 'tenant-1/', 'tenant-', 'zzz', 'é'];

describe('fan-out hub: subscriptions indexed by keys and key prefixes', () => {
  it('delivers each publication to exactly the subscriptions whose filters match it, once, as a scan of every subscription would', () => {
    const random = mulberry32(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const hub = new Hub();
    const got = new Map<Subscription, number[]>();
    const subs: Subscription[] = [];
    for (let i = 0; i < 400; i++) {
      const filter: Filter = {};
      const kind = random();
      if (kind < 0.3) filter.keyPrefix = pick(PREFIXES);
      else if (kind < 0.5) filter.keys = Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(KEYS));
      else if (kind < 0.6) {
        filter.keys = [pick(KEYS), pick(KEYS)];
        filter.keyPrefix = pick(PREFIXES);
      }
      if (random() < 0.2) filter.minScore = random();
      const s: Subscription = {
        channel: random() < 0.2 ? 'predictions:m1' : 'predictions',
        base: random() < 0.9 ? 'predictions' : 'alerts',
        filter,
        deliver: (p) => got.get(s)!.push(p.offset),
      };
      if (s.channel === 'predictions:m1') s.model = 'm1';
      if (random() < 0.1) s.prefixes = [pick(PREFIXES)];
      got.set(s, []);
      subs.push(s);
      hub.add(s);
    }
    const check = (live: readonly Subscription[], from: number): void => {
      for (const s of subs) got.set(s, []);
      const pubs: Publication[] = [];
      for (let offset = from; offset < from + 300; offset++) {
        const p: Publication = {
          channel: random() < 0.9 ? 'predictions' : 'alerts',
          topic: 't',
          partition: 0,
          offset,
          key: random() < 0.05 ? null : pick(KEYS),
          timestamp: 0,
          receivedAt: 0,
          data: {},
          score: random(),
          ...(random() < 0.5 ? { model: pick(['m1', 'm2']) } : {}),
        };
        pubs.push(p);
        hub.publish(p);
      }
      for (const s of subs) {
        const want = live.includes(s) ? pubs.filter((p) => p.channel === s.base && matches(s, p)).map((p) => p.offset) : [];
        assert.deepEqual(got.get(s), want, `subscription ${JSON.stringify({ filter: s.filter, model: s.model, prefixes: s.prefixes, base: s.base })}`);
      }
    };
    check(subs, 0);
    const removed = subs.filter(() => random() < 0.5);
    for (const s of removed) hub.remove(s);
    hub.remove(removed[0]!); // twice: harmless
    check(
      subs.filter((s) => !removed.includes(s)),
      1_000,
    );
    for (const s of subs) hub.remove(s);
    check([], 2_000);
  });
});
