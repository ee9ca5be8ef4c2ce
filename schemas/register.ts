/**
 * npm run schemas -- register | list
 *   register  registers every schema of the catalogue under its subject (BACKWARD
 *             compatibility is the registry's rule: an incompatible change is refused)
 *   list      prints the catalogue: file → subject
 */
import { parseCli, usageError } from '../src/cli-args';
import { isStreamingError } from '../src/errors';
import { loadConfigOrExit } from '../src/config';
import { schemaCatalog } from './catalog';
import { registerSchemas } from './registration';

const CLI = {
  usage: 'usage: npm run schemas -- register|list',
  help: `  register  register every schema of schemas/ under its subject in the schema registry
            (STREAMING_SCHEMA_REGISTRY__URL); the registry's BACKWARD rule refuses an
            incompatible change
  list      print the catalogue: file → subject`,
  options: {},
  commands: ['register', 'list'],
};

async function main(): Promise<number> {
  const { command } = parseCli(CLI);
  if (command === undefined) throw usageError(CLI, 'no command given');
  const config = loadConfigOrExit();
  const catalog = schemaCatalog(config);
  if (command === 'list') {
    for (const e of catalog) process.stdout.write(`schemas/${e.file} → ${e.subject}\n`);
    return 0;
  }
  const failed = await registerSchemas(
    config,
    (l) => void process.stdout.write(`${l}\n`),
    (l) => void process.stderr.write(`${l}\n`),
  );
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (isStreamingError(err)) {
      process.stderr.write(`${err.toUserText()}\n`);
      process.exit(err.code === 'SA_ERR_USAGE' ? 2 : 1);
    }
    process.stderr.write(
      `SA_ERR_SCHEMA_REGISTRATION: the registry at ${process.env.STREAMING_SCHEMA_REGISTRY__URL ?? 'the local stack'} did not answer: ${err instanceof Error ? err.message : String(err)}\n  → start it with \`npm run stack -- up\` or set STREAMING_SCHEMA_REGISTRY__URL\n`,
    );
    process.exit(1);
  },
);
