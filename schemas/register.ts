/**
 * npm run schemas -- register | list
 *   register  registers every schema of the catalogue under its subject (BACKWARD
 *             compatibility is the registry's rule: an incompatible change is refused)
 *   list      prints the catalogue: file → subject
 */
import { loadConfigOrExit } from '../src/config';
import { schemaCatalog } from './catalog';
import { registerSchemas } from './registration';

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
  const failed = await registerSchemas(config, (l) => void process.stdout.write(`${l}\n`), (l) => void process.stderr.write(`${l}\n`));
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`SA_ERR_SCHEMA_REGISTRATION: the registry at ${process.env.STREAMING_SCHEMA_REGISTRY__URL ?? 'the local stack'} did not answer: ${err instanceof Error ? err.message : String(err)}\n  → start it with \`npm run stack -- up\` or set STREAMING_SCHEMA_REGISTRY__URL\n`);
    process.exit(1);
  },
);
