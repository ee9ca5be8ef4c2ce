/**
 * npm run config [-- show|table]
 *   show  (default) validate the STREAMING_* environment and print the effective values
 *   table print the configuration table that README.md carries
 */
import { loadConfigOrExit } from '../config';
import { configTable, describeConfig } from '../config';
import { finishCli, parseCli } from '../cli-args';

const CLI = {
  usage: 'usage: npm run config -- [show|table]',
  help: `  show   (default) check the STREAMING_* environment and print the effective settings
         (secrets redacted); a bad setting exits 2 naming the variable, what was wrong and
         what is expected
  table  print the table of every setting, its default and its meaning (README.md has it)`,
  options: {},
  commands: ['show', 'table'],
};

async function main(): Promise<undefined> {
  const { command = 'show' } = parseCli(CLI);
  if (command === 'table') {
    process.stdout.write(`${configTable()}\n`);
  } else {
    const config = loadConfigOrExit();
    process.stdout.write(`${describeConfig(config).join('\n')}\n`);
  }
}

finishCli('config', main());
