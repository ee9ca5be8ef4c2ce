/** Registers every schema of the catalogue under its subject; returns how many failed (each explained through `problem`). */
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { registryClientOptions, type Config } from '../src/config';
import { schemaCatalog } from './catalog';

export async function registerSchemas(config: Config, out: (line: string) => void, problem: (line: string) => void): Promise<number> {
  const catalog = schemaCatalog(config);
  const registry = new SchemaRegistry(registryClientOptions(config.schemaRegistry));
  let failed = 0;
  for (const e of catalog) {
    try {
      const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(e.schema) }, { subject: e.subject });
      out(`registered schemas/${e.file} as ${e.subject} (id ${id})`);
    } catch (err) {
      failed++;
      const status = (err as { status?: number }).status;
      // The client reports a refused connection as a 400 whose message carries the socket error.
      const unreachable = status === undefined || /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EAI_AGAIN|ECONNRESET/.test((err as Error).message);
      const [why, hint] =
        status === 409
          ? [
              'incompatible with the registered versions (BACKWARD)',
              'make the change backward compatible (add fields with defaults, never remove or retype), or use a new topic',
            ]
          : unreachable
            ? [
                `the registry at ${config.schemaRegistry.url} did not answer: ${(err as Error).message}`,
                'start it with `npm run stack -- up`, or set STREAMING_SCHEMA_REGISTRY__URL',
              ]
            : [`the registry answered HTTP ${status}: ${(err as Error).message}`, 'check the registry URL and credentials'];
      problem(`SA_ERR_SCHEMA_REGISTRATION: schemas/${e.file} → ${e.subject}: ${why}\n  → ${hint}`);
    }
  }
  return failed;
}
