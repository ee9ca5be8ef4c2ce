import { strict as assert } from 'node:assert';
import { isBaseUrl, parseClaim } from '../../../src/query/claim';
import { HostDirectory } from '../../../src/query/directory';
import { rdkafkaClients } from '../../../src/kafka';
import { createLogger } from '../../../src/logger';

const now = 1_700_000_000_000;
const good = { applicationId: 'app', instanceId: 'a', url: 'https://processor-0.processor:8080', tasks: ['0_0', '1_3'], at: now };
const parse = (key: string | null, value: object | string | null): ReturnType<typeof parseClaim> =>
  parseClaim(key, value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)), 'app', now);

describe('host-directory claims: nothing taken on trust', () => {
  it('accepts a claim of this application for the instance its key names, and a withdrawal', () => {
    const r = parse('a', good);
    assert.ok(r.ok && r.claim);
    assert.deepEqual(r.claim, good);
    assert.deepEqual(parse('a', null), { ok: true, instanceId: 'a', claim: undefined });
  });

  it('refuses everything else, with the reason', () => {
    const cases: [string | null, object | string, RegExp][] = [
      [null, good, /key is not an instance id/],
      ['../a', good, /key is not an instance id/],
      ['a', '{', /not JSON/],
      ['a', 'null', /not an object/],
      ['a', { ...good, applicationId: 'other' }, /another application/],
      ['b', good, /another instance than its key/],
      ['a', { ...good, url: 'http://attacker:1/x?y' }, /not an http\(s\) base URL/],
      ['a', { ...good, url: 'http://user:pw@host:1' }, /base URL/],
      ['a', { ...good, url: 'gopher://host:70' }, /base URL/],
      ['a', { ...good, tasks: ['0_0', '../x'] }, /not task ids/],
      ['a', { ...good, tasks: 'all' }, /not task ids/],
      ['a', { ...good, tasks: Array.from({ length: 100_001 }, () => '0_0') }, /not task ids/],
      ['a', { ...good, at: 'now' }, /not a timestamp/],
      ['a', { ...good, at: now + 86_400_000 }, /dated in the future/],
      ['a', { ...good, mismatched: ['in', '../x'] }, /mismatched topics are not topic names/],
      ['a', { ...good, mismatched: 'in' }, /mismatched topics/],
    ];
    for (const [key, value, reason] of cases) {
      const r = parse(key, value);
      assert.ok(!r.ok, JSON.stringify(value).slice(0, 80));
      assert.match(r.reason, reason);
    }
    const huge = parseClaim('a', Buffer.alloc(2 * 1024 * 1024, 0x20), 'app', now);
    assert.ok(!huge.ok && /bytes/.test(huge.reason));
  });

  it('a base URL is scheme, host and port only', () => {
    assert.ok(isBaseUrl('http://127.0.0.1:8080'));
    assert.ok(isBaseUrl('https://[::1]:8443/'));
    for (const bad of ['http://h:1/path', 'http://h:1?q', 'http://h:1#f', 'ftp://h', 'not a url', `http://${'h'.repeat(3000)}:1`])
      assert.ok(!isBaseUrl(bad), bad);
  });

  it('carries the input topics an instance found off the declared partitioner, and the directory reports them', () => {
    const r = parse('a', { ...good, mismatched: ['analytics-events'] });
    assert.ok(r.ok && r.claim);
    assert.deepEqual(r.claim.mismatched, ['analytics-events']);
    const directory = new HostDirectory(
      rdkafkaClients,
      {},
      'app-query-hosts',
      { applicationId: 'app', instanceId: 'a', url: 'http://127.0.0.1:1' },
      createLogger({ level: 'silent' }),
    );
    directory.publish(['0_0']);
    assert.equal(directory.mismatchReported('analytics-events'), false);
    directory.publish(['0_0'], ['analytics-events']);
    assert.equal(directory.mismatchReported('analytics-events'), true);
  });
});
