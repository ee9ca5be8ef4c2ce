/**
 * npm run config [-- show|table]
 *   show  (default) validate the STREAMING_* environment and print the effective values
 *   table print the configuration table that README.md carries
 */
import { loadConfigOrExit } from '../config';
import { configTable, describeConfig } from '../config/table';

const command = process.argv[2] ?? 'show';
if (command === 'table') {
  process.stdout.write(`${configTable()}\n`);
} else if (command === 'show') {
  const config = loadConfigOrExit();
  process.stdout.write(`${describeConfig(config).join('\n')}\n`);
} else {
  process.stderr.write(`SA_ERR_USAGE: unknown command "${command}"\n  → usage: npm run config -- show|table\n`);
  process.exit(1);
}
