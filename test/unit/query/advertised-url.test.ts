import { strict as assert } from 'node:assert';
import { networkInterfaces } from 'node:os';
import { advertisedUrl } from '../../../src/query/server';

describe('the advertised query URL', () => {
  const external = Object.values(networkInterfaces())
    .flatMap((l) => l ?? [])
    .find((a) => a.family === 'IPv4' && !a.internal)?.address;

  it("on a wildcard address, names this machine's address (the pod IP), not 127.0.0.1, which would point a peer back at itself", () => {
    const url = advertisedUrl({ port: 8080, host: '0.0.0.0' });
    assert.equal(url, `http://${external ?? '127.0.0.1'}:8080`);
    if (external) assert.doesNotMatch(url, /127\.0\.0\.1/);
  });

  it('says https when the API serves TLS, keeps a given host, and takes an explicit URL as it is', () => {
    assert.equal(advertisedUrl({ port: 8443, host: '127.0.0.2', tls: { key: '', cert: '' } }), 'https://127.0.0.2:8443');
    assert.equal(
      advertisedUrl({ port: 8080, host: '0.0.0.0', advertisedUrl: 'https://processor-1.processor.ns.svc:8080/' }),
      'https://processor-1.processor.ns.svc:8080',
    );
  });
});
