import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brokerNodes, clusterDir, clusterIdOf, isClusterId, newClusterId } from '../../../ops/kafka/broker';
import { loadConfig } from '../../../src/config';
import { StreamingError } from '../../../src/errors';

/** A random source that hands out the given 16-byte draws in turn, counting them. */
function draws(...values: Buffer[]): ((n: number) => Buffer) & { calls: number } {
  const source = Object.assign(
    (n: number): Buffer => {
      assert.equal(n, 16);
      const next = values[source.calls++];
      assert.ok(next, 'drew more often than the test prepared for');
      return Buffer.from(next);
    },
    { calls: 0 },
  );
  return source;
}

/** 16 bytes whose base64url starts with "-" (0xf8 → "-" as the first 6 bits), the draw that broke `kafka-storage format -t`. */
const DASH_FIRST = Buffer.from(`f8${'11'.repeat(15)}`, 'hex');

describe('local stack: the KRaft cluster id', () => {
  it('a first draw whose id would start with "-" is drawn again', () => {
    assert.ok(Buffer.from(DASH_FIRST).toString('base64url').startsWith('-'), 'the fixture really starts with "-"');
    const random = draws(DASH_FIRST, Buffer.from('00112233445566778899aabbccddeeff', 'hex'));
    const id = newClusterId(random);
    assert.equal(random.calls, 2);
    assert.ok(!id.startsWith('-'));
    assert.ok(isClusterId(id));
  });

  it('ids are 22 base64url characters of a version-4 UUID (variant bits set)', () => {
    for (let i = 0; i < 2000; i++) {
      const id = newClusterId();
      assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
      const bytes = Buffer.from(id, 'base64url');
      assert.equal(bytes.length, 16);
      assert.equal(bytes[6]! >> 4, 4, `${id}: version nibble`);
      assert.equal(bytes[8]! >> 6, 0b10, `${id}: variant bits`);
    }
  });

  it('never the reserved all-zero or metadata-topic ids, whatever the random source gives', () => {
    // All-zero draws become ...QAAg... once the version bits are set, so the reserved ids
    // can only be met by a stored id: isClusterId refuses them.
    assert.equal(isClusterId('AAAAAAAAAAAAAAAAAAAAAA'), false, 'Uuid.ZERO_UUID');
    assert.equal(isClusterId('AAAAAAAAAAAAAAAAAAAAAQ'), false, 'Uuid.METADATA_TOPIC_ID');
    assert.equal(isClusterId('-AAAAAAAAAAAAAAAAAAAAA'), false);
    assert.equal(isClusterId('tooShort'), false);
    const id = newClusterId(draws(Buffer.alloc(16)));
    assert.ok(isClusterId(id), id);
  });

  describe('the id kept in the stack folder', () => {
    let dir: string;
    const stack = (): ReturnType<typeof loadConfig>['stack'] => loadConfig({ STREAMING_STACK__DIR: dir }).stack;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sa-cluster-id-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('is made once and then reused', () => {
      const s = stack();
      const first = clusterIdOf(s, brokerNodes(s));
      assert.ok(isClusterId(first));
      assert.equal(readFileSync(join(clusterDir(s), 'cluster.id'), 'utf8'), first);
      assert.equal(clusterIdOf(s, brokerNodes(s)), first);
    });

    it('one that kafka-storage cannot take (written by the old script) is replaced while no node is formatted', () => {
      const s = stack();
      const idFile = join(clusterDir(s), 'cluster.id');
      mkdirSync(clusterDir(s), { recursive: true });
      const bad = Buffer.from(DASH_FIRST).toString('base64url');
      writeFileSync(idFile, bad);
      // A fixed good draw: a random one starts with "-" one time in 64, and is then drawn again (the test's own first case).
      const id = clusterIdOf(s, brokerNodes(s), draws(Buffer.from('0123456789abcdef0123456789abcdef', 'hex')));
      assert.notEqual(id, bad);
      assert.ok(isClusterId(id));
      assert.equal(readFileSync(idFile, 'utf8'), id);
    });

    it('a missing or bad id under formatted nodes is taken back from their meta.properties when they agree', () => {
      const s = stack();
      const idFile = join(clusterDir(s), 'cluster.id');
      const node = brokerNodes(s)[0]!;
      mkdirSync(join(node.dir, 'data'), { recursive: true });
      writeFileSync(join(node.dir, 'data', 'meta.properties'), 'version=1\ncluster.id=J2bFGuoRTn-y9pD3PLfJ3A\nnode.id=1\n');
      assert.equal(clusterIdOf(s, brokerNodes(s)), 'J2bFGuoRTn-y9pD3PLfJ3A', 'missing');
      writeFileSync(idFile, '-bad');
      assert.equal(clusterIdOf(s, brokerNodes(s)), 'J2bFGuoRTn-y9pD3PLfJ3A', 'damaged');
      assert.equal(readFileSync(idFile, 'utf8'), 'J2bFGuoRTn-y9pD3PLfJ3A');
    });

    it('a bad id with a node formatted without a usable one is a typed error whose hint (down --purge) removes both', () => {
      const s = stack();
      const idFile = join(clusterDir(s), 'cluster.id');
      const node = brokerNodes(s)[0]!;
      mkdirSync(join(node.dir, 'data'), { recursive: true });
      writeFileSync(join(node.dir, 'data', 'meta.properties'), 'version=1\n');
      writeFileSync(idFile, '-bad');
      assert.throws(
        () => clusterIdOf(s, brokerNodes(s)),
        (err: unknown) => {
          assert.ok(err instanceof StreamingError);
          assert.equal(err.code, 'SA_ERR_STACK_START_FAILED');
          assert.match(err.message, /not valid, but node\(s\) 1 were formatted with another one/);
          assert.match(err.hint ?? '', /npm run stack -- down --purge/);
          return true;
        },
      );
      assert.equal(readFileSync(idFile, 'utf8'), '-bad', 'nothing is replaced under a formatted node');
      // What `down --purge` removes (stackDown: <dir>/kafka) holds both the id and the node data.
      assert.ok(idFile.startsWith(join(dir, 'kafka')) && node.dir.startsWith(join(dir, 'kafka')));
      rmSync(join(dir, 'kafka'), { recursive: true, force: true });
      const fresh = clusterIdOf(s, brokerNodes(s));
      assert.ok(isClusterId(fresh) && existsSync(idFile));
    });
  });
});
