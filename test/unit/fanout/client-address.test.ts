import { strict as assert } from 'node:assert';
import { canonical, clientAddress, TrustedProxies } from '../../../src/fanout/client-address';
import { StreamingError } from '../../../src/errors';

const proxies = new TrustedProxies(['10.0.0.0/8', '192.0.2.10', 'fd00::/8', '::ffff:172.16.0.0/108']);

describe('fan-out: the client address behind trusted proxies', () => {
  it('writes every address one way: IPv4-mapped IPv6 as IPv4, IPv6 compressed in lower case; anything else is not an address', () => {
    assert.equal(canonical('::ffff:10.0.0.1'), '10.0.0.1');
    assert.equal(canonical('::FFFF:a00:1'), '10.0.0.1');
    assert.equal(canonical('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
    assert.equal(canonical('[2001:db8::1]'), '2001:db8::1');
    for (const bad of ['', 'unknown', '010.0.0.1', '1.2.3.4.5', 'fe80::1%eth0', ' 1.2.3.4']) assert.equal(canonical(bad), undefined, bad);
  });

  it('believes X-Forwarded-For only from a trusted peer, and takes its right-most address that is not a trusted proxy', () => {
    assert.equal(clientAddress('10.1.2.3', '198.51.100.7', proxies), '198.51.100.7');
    assert.equal(clientAddress('::ffff:10.1.2.3', '6.6.6.6, 198.51.100.7', proxies), '198.51.100.7', 'what the client wrote itself, on the left, is ignored');
    assert.equal(clientAddress('10.1.2.3', '6.6.6.6, 198.51.100.7, 10.9.9.9, 192.0.2.10', proxies), '198.51.100.7', 'trusted hops are skipped');
    assert.equal(clientAddress('fd00::5', '2001:DB8::1', proxies), '2001:db8::1');
    assert.equal(clientAddress('10.1.2.3', '198.51.100.7:5123', proxies), '198.51.100.7');
    assert.equal(clientAddress('10.1.2.3', '[2001:db8::9]:443', proxies), '2001:db8::9');
    assert.equal(clientAddress('172.16.9.9', '198.51.100.8', proxies), '198.51.100.8', 'an IPv4-mapped range trusts the IPv4 addresses');
    assert.equal(clientAddress('10.1.2.3', undefined, proxies), '10.1.2.3');
  });

  it('ignores X-Forwarded-For from an untrusted peer, and always when no proxy is trusted', () => {
    assert.equal(clientAddress('198.51.100.1', '6.6.6.6', proxies), '198.51.100.1');
    assert.equal(clientAddress('::ffff:127.0.0.1', '6.6.6.6', new TrustedProxies([])), '127.0.0.1');
    assert.equal(clientAddress(undefined, '6.6.6.6', proxies), 'unknown');
  });

  it('when the chain cannot be read: the nearest address known', () => {
    assert.equal(clientAddress('10.1.2.3', '198.51.100.7, garbage', proxies), '10.1.2.3', 'an unreadable right-most entry leaves the proxy');
    assert.equal(clientAddress('10.1.2.3', 'garbage, 10.7.7.7', proxies), '10.7.7.7', 'unreadable behind a trusted hop: the hop');
    assert.equal(clientAddress('10.1.2.3', '10.5.5.5, 10.6.6.6', proxies), '10.5.5.5', 'only trusted proxies: the farthest');
    assert.equal(clientAddress('10.1.2.3', '', proxies), '10.1.2.3');
  });

  it('reads only the end of a long header and at most 16 hops', () => {
    const spoofed = Array.from({ length: 1000 }, (_, i) => `6.6.${i % 250}.${i % 200}`).join(', ');
    assert.equal(clientAddress('10.1.2.3', `${spoofed}, 198.51.100.7`, proxies), '198.51.100.7');
    const hops = Array.from({ length: 20 }, (_, i) => `10.0.0.${i + 1}`);
    assert.equal(clientAddress('10.1.2.3', ['198.51.100.7', ...hops].join(','), proxies), '10.0.0.5', 'the 16th hop from the right, not the client 21 back');
    assert.equal(clientAddress('10.1.2.3', ['198.51.100.7', '10.0.0.1'], proxies), '198.51.100.7', 'a repeated header, as an array');
  });

  it('refuses entries that are not addresses or CIDR ranges, naming the setting', () => {
    for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.1/8', 'fd00::1/8', 'example.com', '10.0.0.0/', '10.0.0.0/8/8', '300.0.0.0/8', '::ffff:10.0.0.0/95']) {
      assert.throws(
        () => new TrustedProxies([bad]),
        (e: unknown) => e instanceof StreamingError && e.code === 'SA_ERR_CONFIG_INVALID' && e.message.startsWith('STREAMING_WEBSOCKET__TRUSTED_PROXIES: '),
        bad,
      );
    }
    const ok = new TrustedProxies(['0.0.0.0/0', '::/0', '127.0.0.1', '::1', ' 10.0.0.0/8 ']);
    assert.ok(ok.has('203.0.113.1') && ok.has('2001:db8::1'));
  });
});
