import { strict as assert } from 'node:assert';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { registryClientOptions } from '../../src/config';
import { uniqueName } from '../support/kafka';
import { useStack } from '../support/stack';

describe('local schema registry: the owner’s client against it, unchanged (real registry)', function () {
  this.timeout(60_000);
  const config = useStack();

  const v1 = {
    type: 'record',
    name: 'PageView',
    namespace: 'it.registry',
    fields: [
      { name: 'id', type: 'string' },
      { name: 'count', type: 'int' },
    ],
  };

  function client(): SchemaRegistry {
    return new SchemaRegistry(registryClientOptions(config().schemaRegistry));
  }

  it('registers a schema, fetches it back by id and round-trips a record in the Confluent wire format', async () => {
    const registry = client();
    const subject = `${uniqueName('it-registry')}-value`;
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject });
    assert.ok(Number.isInteger(id) && id > 0, `expected a positive integer id, got ${id}`);

    // A fresh client has nothing cached, so this is a real GET /schemas/ids/{id}.
    const fetched = await client().getSchema(id);
    assert.equal((fetched as { name?: string }).name, 'it.registry.PageView');
    assert.equal(await registry.getLatestSchemaId(subject), id);

    const encoded = await registry.encode(id, { id: 'p-1', count: 7 });
    assert.equal(encoded.readUInt8(0), 0, 'magic byte');
    assert.equal(encoded.readInt32BE(1), id, 'schema id after the magic byte');
    assert.deepEqual({ ...(await client().decode(encoded)) }, { id: 'p-1', count: 7 });
  });

  it('accepts a BACKWARD-compatible new version and rejects an incompatible one with 409', async () => {
    const registry = client();
    const subject = `${uniqueName('it-registry')}-value`;
    const first = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject });

    const compatible = { ...v1, fields: [...v1.fields, { name: 'referrer', type: ['null', 'string'], default: null }] };
    const second = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(compatible) }, { subject });
    assert.notEqual(second.id, first.id);
    assert.equal(await registry.getLatestSchemaId(subject), second.id);

    const incompatible = { ...v1, fields: [...compatible.fields, { name: 'required', type: 'string' }] };
    await assert.rejects(registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(incompatible) }, { subject }), (err: { status?: number }) => {
      assert.equal(err.status, 409);
      return true;
    });
    assert.equal(await registry.getLatestSchemaId(subject), second.id, 'the rejected version must not become latest');
  });
});
