import { strict as assert } from 'node:assert';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { loadSchema } from '../../../schemas/catalog';
import { AvroSerde, SerdeError } from '../../../src/serdes';
import { httpRegistry, wire, type HttpRegistry, type RegistryAnswer } from '../../support/avro-records';
import { freePort } from '../../support/net';

/**
 * What a registry failure for one schema id does (issue 12, finding 1 and 9), against a
 * registry on 127.0.0.1 and the real registry client. Not answering (5xx, 408, 429, no
 * connection) and refused credentials (401) are thrown: the caller holds the batch and
 * waits. An answer about the id (403 from per-subject access control, 404, 422, 400) makes
 * that id's records alone unreadable — a SerdeError at deserialize, so the processor
 * dead-letters them and the fan-out skips them — and the id is asked about again later.
 */
const schema = loadSchema('ml-prediction.avsc');
const prediction = {
  entity_id: 'acct-1',
  window_start: 0,
  window_end: 60_000,
  score: 0.9,
  label: 'anomaly',
  flagged: true,
  threshold: 0.5,
  model_name: 'm',
  model_version: '1',
  features: { events: 3 },
  event_time: 5,
  processing_time: 6,
};
const REFUSED = 7;
const GOOD = 8;

/** A reader of `schema` on a registry client of `url`, as the applications make it (its `retry` option would change every later client's: the client keeps it in a shared default). */
function serdeOn(url: string, refusedIdRetryMs?: number): AvroSerde<unknown> {
  return new AvroSerde<unknown>(new SchemaRegistry({ host: url }), { schema, refusedIdRetryMs });
}

/** A record of the application's own schema, written under schema id `id`. */
function recordOf(id: number): Buffer {
  return wire(id, avro.Type.forSchema(schema).toBuffer(prediction));
}

describe('Avro serde: a registry failure for one schema id', () => {
  let registry: HttpRegistry;
  let answers: Map<number, RegistryAnswer>;

  beforeEach(async () => {
    answers = new Map([[GOOD, schema]]);
    registry = await httpRegistry((id) => answers.get(id) ?? { status: 404, body: { error_code: 40403, message: `Schema ${id} not found` } });
  });
  afterEach(() => registry.close());

  const refusals: [string, RegistryAnswer, RegExp][] = [
    [
      '403 (per-subject access control)',
      { status: 403, body: { error_code: 40301, message: 'User is denied operation Read on Subject: network-events-value' } },
      /schema id 7 of a record from "t" cannot be fetched: the registry answered 403 \(.*User is denied operation Read on Subject: network-events-value\)/,
    ],
    [
      '404',
      { status: 404, body: { error_code: 40403, message: 'Schema 7 not found' } },
      /schema id 7 of a record from "t" is unknown to the registry \(404: .*Schema 7 not found\)/,
    ],
    ['422', { status: 422, body: { error_code: 42202, message: 'Invalid schema id' } }, /cannot be fetched: the registry answered 422 \(.*Invalid schema id\)/],
    [
      "400 with the registry's answer",
      { status: 400, body: { error_code: 400, message: 'Bad request' } },
      /cannot be fetched: the registry answered 400 \(.*Bad request\)/,
    ],
  ];
  for (const [what, answer, message] of refusals) {
    it(`${what}: only that id's records are refused (SerdeError); the batch is not held, other ids read`, async () => {
      answers.set(REFUSED, answer);
      const serde = serdeOn(registry.url);
      await serde.prepareBatch('t', [recordOf(REFUSED), recordOf(GOOD)]);
      assert.throws(
        () => serde.deserialize('t', recordOf(REFUSED)),
        (err: unknown) => err instanceof SerdeError && message.test(err.message),
      );
      assert.equal((serde.deserialize('t', recordOf(GOOD)) as { score: number }).score, 0.9);
      await serde.prepareBatch('t', [recordOf(REFUSED)]);
      assert.deepEqual(registry.asked, [REFUSED, GOOD], 'not asked again at once');
    });
  }

  it('a refused id is asked about again after refusedIdRetryMs: a fixed ACL takes effect', async () => {
    answers.set(REFUSED, { status: 403, body: { error_code: 40301, message: 'User is denied operation Read' } });
    const serde = serdeOn(registry.url, 50);
    await serde.prepareBatch('t', [recordOf(REFUSED)]);
    assert.throws(() => serde.deserialize('t', recordOf(REFUSED)), /answered 403/);
    answers.set(REFUSED, schema); // the ACL is fixed
    await serde.prepareBatch('t', [recordOf(REFUSED)]);
    assert.deepEqual(registry.asked, [REFUSED], 'within the retry interval, not asked');
    await new Promise((r) => setTimeout(r, 60));
    await serde.prepareBatch('t', [recordOf(REFUSED)]);
    assert.deepEqual(registry.asked, [REFUSED, REFUSED]);
    assert.equal((serde.deserialize('t', recordOf(REFUSED)) as { score: number }).score, 0.9);
  });

  it('401 (bad credentials: every id fails alike): thrown, saying the registry refused the credentials; nothing is marked unusable', async () => {
    answers.set(REFUSED, { status: 401, body: { error_code: 401, message: 'Unauthorized' } });
    const serde = serdeOn(registry.url);
    for (let i = 1; i <= 2; i++) {
      await assert.rejects(
        serde.prepareBatch('t', [recordOf(REFUSED)]),
        (err: unknown) =>
          err instanceof SerdeError &&
          /the schema registry refused the credentials \(401\) when asked for schema id 7; records wait until it accepts them/.test(err.message),
      );
      assert.equal(registry.asked.length, i, 'asked again with the next attempt');
    }
    answers.set(REFUSED, schema);
    await serde.prepareBatch('t', [recordOf(REFUSED)]);
    assert.equal((serde.deserialize('t', recordOf(REFUSED)) as { score: number }).score, 0.9);
  });

  for (const status of [500, 503, 408, 429]) {
    it(`${status}: the registry does not answer — thrown, the caller waits and retries the batch`, async () => {
      answers.set(REFUSED, { status, body: { error_code: status, message: 'try later' } });
      const serde = serdeOn(registry.url);
      await assert.rejects(
        serde.prepareBatch('t', [recordOf(REFUSED)]),
        (err: unknown) => err instanceof SerdeError && /cannot fetch schema id 7 from the registry/.test(err.message),
      );
      answers.set(REFUSED, schema);
      await serde.prepareBatch('t', [recordOf(REFUSED)]);
      assert.equal((serde.deserialize('t', recordOf(REFUSED)) as { score: number }).score, 0.9);
    });
  }

  it('no connection, and a TLS failure (the client reports both as a 400 of its own): thrown, not taken for an answer', async () => {
    const closed = serdeOn(`http://127.0.0.1:${await freePort()}`);
    await assert.rejects(closed.prepareBatch('t', [recordOf(REFUSED)]), /cannot fetch schema id 7 from the registry: .*ECONNREFUSED/);
    const tls = serdeOn(registry.url.replace('http:', 'https:'));
    await assert.rejects(tls.prepareBatch('t', [recordOf(REFUSED)]), /cannot fetch schema id 7 from the registry: .*Error, status 400: .*(SSL|EPROTO)/);
  });

  it('refusedIdRetryMs must be a duration ≥ 0', () => {
    assert.throws(() => serdeOn(registry.url, -1), { code: 'SA_ERR_STREAMS_CONFIG', message: /refusedIdRetryMs must be a duration ≥ 0 ms, not -1/ });
  });
});
