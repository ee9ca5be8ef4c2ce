/**
 * npm run schemas -- register | list
 *   register  registers every schema of the catalogue under its subject (BACKWARD
 *             compatibility is the registry's rule: an incompatible change is refused)
 *   list      prints the catalogue: file → subject
 */
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { loadConfigOrExit, registryClientOptions } from '../src/config';
import { schemaCatalog } from './catalog';

async function main(): Promise<number> {
  const command = process.argv[2];
  const config = loadConfigOrExit();
  const catalog = schemaCatalog(config);
  if (command === 'list') {
    for (const e of catalog) process.stdout.write(`schemas/${e.file} → ${e.subject}\n`);
    return 0;
  }
  if (command !== 'register') {
    process.stderr.write(`SA_ERR_USAGE: ${command ? `unknown command "${command}"` : 'no command given'}\n  → usage: npm run schemas -- register|list\n`);
    return 1;
  }
  const registry = new SchemaRegistry(registryClientOptions(config.schemaRegistry));
  let failed = 0;
  for (const e of catalog) {
    try {
      const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(e.schema) }, { subject: e.subject });
      process.stdout.write(`registered schemas/${e.file} as ${e.subject} (id ${id})\n`);
    } catch (err) {
      failed++;
      const status = (err as { status?: number }).status;
      // The client reports a refused connection as a 400 whose message carries the socket error.
      const unreachable = status === undefined || /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EAI_AGAIN|ECONNRESET/.test((err as Error).message);
      const [why, hint] = status === 409
        ? ['incompatible with the registered versions (BACKWARD)', 'make the change backward compatible (add fields with defaults, never remove or retype), or use a new topic']
        : unreachable
          ? [`the registry at ${config.schemaRegistry.url} did not answer: ${(err as Error).message}`, 'start it with `npm run stack -- up`, or set STREAMING_SCHEMA_REGISTRY__URL']
          : [`the registry answered HTTP ${status}: ${(err as Error).message}`, 'check the registry URL and credentials'];
      process.stderr.write(`SA_ERR_SCHEMA_REGISTRATION: schemas/${e.file} → ${e.subject}: ${why}\n  → ${hint}\n`);
    }
  }
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`SA_ERR_SCHEMA_REGISTRATION: the registry at ${process.env.STREAMING_SCHEMA_REGISTRY__URL ?? 'the local stack'} did not answer: ${err instanceof Error ? err.message : String(err)}\n  → start it with \`npm run stack -- up\` or set STREAMING_SCHEMA_REGISTRY__URL\n`);
    process.exit(1);
  },
);
