import { strict as assert } from 'node:assert';
import { PartitionHistory, type Publication } from '../../../src/fanout/history';
import { matches, type Subscription } from '../../../src/fanout/hub';
import { authorize, grantsFromClaims } from '../../../src/fanout/permissions';
import { LIMITS, parseChannel, parseFrame, ProtocolError } from '../../../src/fanout/protocol';

const pub = (offset: number, key: string, extra: Partial<Publication> = {}): Publication => ({
  channel: 'predictions',
  topic: 't',
  partition: 0,
  offset,
  key,
  timestamp: 0,
  receivedAt: 0,
  data: {},
  ...extra,
});
const sub = (o: Partial<Subscription>): Subscription => ({ channel: 'predictions', base: 'predictions', filter: {}, deliver: () => undefined, ...o });

describe('fan-out: protocol, permissions, filters, history', () => {
  it('parses requests, one per line, and answers bad ones with typed errors', () => {
    const [a, b, c, d, e] = parseFrame(
      '{"id":1,"method":"subscribe","params":{"channel":"alerts","filter":{"minScore":0.5},"recover":{"positions":{"0":41}}}}\n{"id":2,"method":"ping"}\nnot json\n{"id":3,"method":"drop"}\n{"method":"ping"}',
    );
    assert.ok(a && !(a instanceof ProtocolError) && a.method === 'subscribe');
    assert.equal(a.filter.minScore, 0.5);
    assert.equal(a.recover?.get(0), 42);
    assert.deepEqual(b, { id: 2, method: 'ping' });
    assert.ok(c instanceof ProtocolError && c.code === 'SA_ERR_WS_BAD_REQUEST');
    assert.ok(d instanceof ProtocolError && d.code === 'SA_ERR_WS_UNKNOWN_METHOD' && d.id === 3);
    assert.ok(e instanceof ProtocolError && /needs an "id"/.test(e.message));
    const [f] = parseFrame('{"id":4,"method":"subscribe","params":{"channel":"alerts","filter":{"colour":"red"}}}');
    assert.ok(f instanceof ProtocolError && /unknown filter field/.test(f.message));
    assert.deepEqual(JSON.parse((f as ProtocolError).toReply()), {
      id: 4,
      error: { code: 'SA_ERR_WS_BAD_REQUEST', message: 'unknown filter field(s): colour', temporary: false },
    });
  });

  it('bounds what a frame may carry: lines, ids, channel names, recover positions; echoes nothing unbounded', () => {
    const ping = '{"id":1,"method":"ping"}';
    assert.equal(parseFrame(Array(LIMITS.linesPerFrame).fill(ping).join('\n\n')).length, LIMITS.linesPerFrame);
    const [tooMany, ...none] = parseFrame(
      Array(LIMITS.linesPerFrame + 1)
        .fill(ping)
        .join('\n'),
    );
    assert.ok(tooMany instanceof ProtocolError && /at most 100 requests/.test(tooMany.message) && none.length === 0);
    const first = (text: string): ProtocolError => {
      const [r] = parseFrame(text);
      assert.ok(r instanceof ProtocolError, text.slice(0, 80));
      return r;
    };
    assert.match(first('{"id":1e999,"method":"ping"}').message, /needs an "id"/, "JSON's 1e999 is Infinity, which a reply cannot carry");
    assert.match(first(`{"id":"${'i'.repeat(257)}","method":"ping"}`).message, /up to 256 characters/);
    assert.match(first(`{"id":1,"method":"subscribe","params":{"channel":"${'c'.repeat(129)}"}}`).message, /"params.channel"/);
    const positions = (n: number): string =>
      JSON.stringify({
        id: 1,
        method: 'subscribe',
        params: { channel: 'alerts', recover: { positions: Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i), 0])) } },
      });
    assert.ok(!(parseFrame(positions(LIMITS.recoverPartitions))[0] instanceof ProtocolError));
    assert.match(first(positions(LIMITS.recoverPartitions + 1)).message, /at most 1000 partitions/);
    const prefix = (n: number): string => `{"id":1,"method":"subscribe","params":{"channel":"alerts","filter":{"keyPrefix":"${'k'.repeat(n)}"}}}`;
    assert.ok(!(parseFrame(prefix(LIMITS.keyPrefixLength))[0] instanceof ProtocolError));
    assert.match(first(prefix(LIMITS.keyPrefixLength + 1)).message, /"filter.keyPrefix" must be a string of up to 256 characters/);
    assert.match(
      first('{"id":1,"method":"subscribe","params":{"channel":"alerts","recover":{"positions":{"0":5,"00":1}}}}').message,
      /partition numbers/,
      '"00" would name partition 0 twice',
    );
    const long = 'm'.repeat(10_000);
    for (const text of [
      `{"id":1,"method":"${long}"}`,
      `{"id":1,"method":{"deep":${'['.repeat(5000)}${']'.repeat(5000)}}}`,
      `{"id":1,"method":"subscribe","params":{"channel":"alerts","filter":{"${long}":1}}}`,
      `{"id":1,"method":"subscribe","params":{"channel":"alerts","recover":{"positions":{"${long}":1}}}}`,
    ]) {
      assert.ok(first(text).toReply().length < 400, 'an error reply does not echo a long value');
    }
  });

  it('knows its channels', () => {
    assert.deepEqual(parseChannel('predictions:anomaly-detector'), { base: 'predictions', model: 'anomaly-detector' });
    assert.deepEqual(parseChannel('metrics'), { base: 'metrics' });
    assert.equal(parseChannel('alerts:x'), undefined);
    assert.equal(parseChannel('events'), undefined);
  });

  it('grants channels from the token, denied by default; a prefix grant filters every record', () => {
    const g = grantsFromClaims({ channels: ['predictions', 'alerts#tenant-a-'] });
    assert.equal(authorize(g, 'predictions:m1', {}, 1), undefined);
    assert.throws(
      () => authorize(g, 'metrics', {}, 1),
      (e: unknown) => e instanceof ProtocolError && e.code === 'SA_ERR_WS_FORBIDDEN',
    );
    assert.deepEqual(authorize(g, 'alerts', {}, 1), ['tenant-a-']);
    assert.deepEqual(authorize(g, 'alerts', { keyPrefix: 'tenant-a-x' }, 1), ['tenant-a-']);
    assert.throws(() => authorize(g, 'alerts', { keys: ['tenant-b-1'] }, 1), /only for keys starting with "tenant-a-"/);
    assert.throws(() => authorize(grantsFromClaims({}), 'alerts', {}, 1), /does not permit/);
    assert.equal(authorize(grantsFromClaims({ channels: ['*'] }), 'metrics', {}, 1), undefined);
  });

  it('filters by keys, key prefix, minimum score, model and granted prefixes', () => {
    assert.ok(matches(sub({ filter: { keys: ['a', 'b'] } }), pub(1, 'b')));
    assert.ok(!matches(sub({ filter: { keys: ['a'] } }), pub(1, 'b')));
    assert.ok(matches(sub({ filter: { keyPrefix: 'us-' } }), pub(1, 'us-7')));
    assert.ok(!matches(sub({ filter: { minScore: 0.5 } }), pub(1, 'a', { score: 0.4 })));
    assert.ok(matches(sub({ filter: { minScore: 0.5 } }), pub(1, 'a', { score: 0.5 })));
    assert.ok(!matches(sub({ model: 'm2' }), pub(1, 'a', { model: 'm1' })));
    assert.ok(!matches(sub({ prefixes: ['t-a'] }), pub(1, 't-b-1')));
  });

  it('history keeps the last N per partition and answers from an offset, across offset holes', () => {
    const h = new PartitionHistory(3, 10);
    assert.equal(h.first(), undefined);
    assert.equal(h.next(), 10);
    for (const o of [10, 11, 13, 15]) h.add(pub(o, 'k'));
    assert.equal(h.first(), 11);
    assert.equal(h.next(), 16);
    assert.deepEqual(
      h.from(12).map((p) => p.offset),
      [13, 15],
    );
    assert.deepEqual(
      h.from(0).map((p) => p.offset),
      [11, 13, 15],
    );
  });
});
