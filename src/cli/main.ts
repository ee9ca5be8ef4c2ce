#!/usr/bin/env node
/**
 * `streaming-analytics <command>`: the package's one executable (package.json `bin`), so an
 * installed package — or the image, `node dist/src/cli/main.js <command>` — runs every
 * service and tool by name. Each command is its own module with its own `--help`; this
 * file only picks it and hands over the remaining arguments.
 */
import { StreamingError } from '../errors';

const COMMANDS: Record<string, { module: string; summary: string }> = {
  processor: { module: './processor', summary: 'the processor: analytics topology, query API, admin listener (the StatefulSet)' },
  fanout: { module: './fanout', summary: 'the WebSocket fan-out tier and the dashboard (the Deployment)' },
  generate: { module: './generate', summary: 'produce realistic analytics events' },
  config: { module: './config', summary: 'check the STREAMING_* environment, or print the settings table' },
  schemas: { module: '../../schemas/register', summary: 'register the Avro schemas in the schema registry' },
  'eos-verify': { module: '../eos-verify/cli', summary: 'prove exactly-once against the configured Kafka' },
};

const USAGE = `usage: streaming-analytics <command> [options]   (each command answers --help)`;

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return `${USAGE}\n\n${Object.entries(COMMANDS)
    .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
    .join('\n')}\n`;
}

const [command] = process.argv.slice(2);
if (command === '--help' || command === '-h') {
  process.stdout.write(help());
  process.exit(0);
}
const chosen = command === undefined ? undefined : COMMANDS[command];
if (!chosen) {
  const err = new StreamingError('SA_ERR_USAGE', command === undefined ? 'no command given' : `unknown command "${command}"`, {
    hint: `one of ${Object.keys(COMMANDS).join(', ')} (streaming-analytics --help says more)`,
  });
  process.stderr.write(`${err.toUserText()}\n`);
  process.exit(2);
}
process.argv.splice(2, 1);
require(chosen.module);
