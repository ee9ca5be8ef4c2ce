import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { loadSchema } from '../../../schemas/catalog';
import { AvroSerde, SerdeError } from '../../../src/serdes';

/**
 * Registering an output schema when several processes register the same new subject at
 * once (the stream threads of one instance): Apicurio can answer one of them with an error
 * from its own race. The serde asks again before it calls the schema refused.
 */
describe('Avro serde: registering a schema that another process registers at the same moment', () => {
  let server: Server;
  let url = '';
  let calls = 0;
  let failFirst = 0;
  let refusal = "A rule named 'COMPATIBILITY' already exists";
  /** The subject's compatibility until the first registration (the race winner) sets it. */
  let subjectCompatibility = 'BACKWARD';

  beforeEach(async () => {
    calls = 0;
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/vnd.schemaregistry.v1+json');
        calls++;
        if (req.method === 'GET' && req.url?.startsWith('/config/')) {
          const level = subjectCompatibility;
          subjectCompatibility = 'BACKWARD'; // the winner sets it right after its registration
          return res.end(JSON.stringify({ compatibilityLevel: level }));
        }
        if (req.method === 'POST' && /^\/subjects\/[^/]+\/versions$/.test(req.url ?? '') && calls > failFirst) return res.end(JSON.stringify({ id: 42 }));
        res.statusCode = 409;
        res.end(JSON.stringify({ error_code: 409, message: refusal }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  const serde = (): AvroSerde<unknown> => new AvroSerde<unknown>(new SchemaRegistry({ host: url }), { schema: loadSchema('ml-prediction.avsc') });

  it('a registration that loses the race is asked again, and the schema id is then used', async () => {
    failFirst = 2; // the config read, then the registration
    const s = serde();
    await s.prepare('predictions');
    assert.equal(calls, 4, 'config and registration, twice');
    const bytes = s.serialize('predictions', {
      entity_id: 'a',
      window_start: 0,
      window_end: 1,
      score: 0.5,
      label: 'normal',
      flagged: false,
      threshold: 0.9,
      model_name: 'm',
      model_version: '1',
      features: {},
      event_time: 0,
      processing_time: 0,
    });
    assert.equal(bytes!.readUInt32BE(1), 42);
  });

  it('a registration refused every time is a SerdeError after three tries, naming the subject and the answer', async () => {
    failFirst = Number.POSITIVE_INFINITY;
    await assert.rejects(serde().prepare('predictions'), (err: unknown) => {
      assert.ok(err instanceof SerdeError);
      assert.match(err.message, /schema registry refused the schema for subject "predictions-value": .*COMPATIBILITY/);
      return true;
    });
    assert.equal(calls, 6, 'config and registration, three times');
  });

  it('a refusal of the schema itself (incompatible) is final at once: no second try', async () => {
    failFirst = Number.POSITIVE_INFINITY;
    refusal = 'Schema being registered is incompatible with an earlier schema';
    await assert.rejects(serde().prepare('predictions'), { name: 'SerdeError', message: /incompatible/ });
    assert.equal(calls, 2, 'config and registration, once');
    refusal = "A rule named 'COMPATIBILITY' already exists";
  });

  it('a subject whose compatibility the winner has not set yet (NONE for a moment) is asked again', async () => {
    failFirst = 0;
    subjectCompatibility = 'NONE';
    await serde().prepare('predictions');
    assert.equal(calls, 3, 'the config read that saw NONE, then config and registration');
  });
});
