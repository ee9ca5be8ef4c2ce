import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { AvroSerdes, KafkaStreams, Serdes, StreamsBuilder, type StreamsState } from '../../src';
import { registryClientOptions, kafkaClientConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { call, connectedProducer, createTopic, readAll, uniqueName, waitFor } from '../support/kafka';
import { useStack } from '../support/stack';

const V1 = { type: 'record', name: 'Reading', namespace: 'test.outage', fields: [{ name: 'n', type: 'int' }] } as const;
const V2 = { ...V1, fields: [...V1.fields, { name: 'note', type: 'string', default: '' }] };

describe('a schema-registry outage costs waiting, never the processor (real broker and registry)', function () {
  this.timeout(180_000);
  const config = useStack();
  let proxy: Server;
  let registryUp = true;
  let streams: KafkaStreams | undefined;
  let dir: string;

  before(async () => {
    // The processor reaches the registry through this proxy, which can be switched off (connections reset).
    proxy = createServer((req, res) => {
      if (!registryUp) return void req.socket.destroy();
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        fetch(`${config().schemaRegistry.url}${req.url}`, {
          method: req.method ?? 'GET',
          headers: { accept: req.headers.accept ?? '*/*', 'content-type': req.headers['content-type'] ?? 'application/json' },
          ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
        }).then(
          async (r) => res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await r.arrayBuffer())),
          () => res.writeHead(502).end(),
        );
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    dir = mkdtempSync(join(tmpdir(), 'outage-'));
  });

  after(async () => {
    await streams?.close();
    proxy.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records whose writer schema cannot be fetched wait through an outage longer than 30 s; the instance stays up, not ready, and catches up after', async () => {
    const input = uniqueName('outage-in');
    const output = uniqueName('outage-out');
    await createTopic(config(), input, 1);
    await createTopic(config(), output, 1);
    const direct = new AvroSerdes(new SchemaRegistry(registryClientOptions(config().schemaRegistry)));
    const viaProxy = new AvroSerdes(new SchemaRegistry({ host: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` }));
    const b = new StreamsBuilder();
    b.stream(input, { keySerde: Serdes.String(), valueSerde: viaProxy.serde<{ n: number }>({ schema: V1 as never }) })
      .mapValues((v) => String(v?.n))
      .to(output, { keySerde: Serdes.String(), valueSerde: Serdes.String() });
    streams = new KafkaStreams(b.build(), {
      applicationId: uniqueName('outage-app'),
      stateDir: dir,
      kafka: kafkaClientConfig(config().kafka),
      logger: createLogger({ level: 'fatal' }),
      handleSignals: false,
      adminServer: { port: 0 },
    });
    const states: StreamsState[] = [];
    streams.on('stateChange', (s) => states.push(s));
    await streams.start();

    const producer = await connectedProducer(config());
    const send = async (serde: ReturnType<typeof direct.serde<{ n: number; note?: string }>>, from: number): Promise<void> => {
      await serde.prepare(input);
      for (let n = from; n < from + 5; n++) producer.produce(input, null, serde.serialize(input, { n, note: 'x' }), Buffer.from(`k${n}`), Date.now());
      await call((cb) => producer.flush(10_000, (err) => cb(err)));
    };
    await send(direct.serde({ schema: V1 as never }), 0);
    await waitFor('the first records through', async () => (await readAll(config(), output, 'read_committed', 5, 500)).length === 5, 60_000);

    // The registry goes away; records written with a newer schema (an id the processor has not seen) arrive.
    registryUp = false;
    await send(direct.serde({ schema: V2 as never }), 5);
    const admin = streams.adminUrl!;
    await waitFor(
      '/readyz to say what it waits for',
      async () => {
        const r = await fetch(`${admin}/readyz`);
        return r.status === 503 && /schema registry does not answer/.test(await r.text());
      },
      30_000,
    );
    await new Promise((r) => setTimeout(r, 32_000)); // past the ~26 s after which the processor used to give up
    assert.equal(streams.state, 'RUNNING');
    assert.ok(!states.includes('ERROR'), `states: ${states.join(' → ')}`);
    assert.equal((await readAll(config(), output, 'read_committed', 5, 500)).length, 5, 'nothing skipped meanwhile');

    registryUp = true;
    await waitFor('the waiting records through', async () => (await readAll(config(), output, 'read_committed', 10, 500)).length === 10, 60_000);
    const values = (await readAll(config(), output, 'read_committed', 10, 500)).map((r) => Number(r.value)).sort((x, y) => x - y);
    assert.deepEqual(values, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'every record once');
    await waitFor('ready again', async () => (await fetch(`${admin}/readyz`)).status === 200, 30_000);
    await call((cb) => producer.disconnect((err) => cb(err)));
  });
});
