// The last step of `npm run build`: compiles the batch reader restoration uses
// (src/kafka/rdkafka/native/batch.c) into dist/native/rdkafka-batch.node, with the C
// compiler the native dependencies already need, against Node's node_api.h and the
// librdkafka header node-rdkafka installed. It is optional: without a compiler or a header,
// the build says so and goes on, and restoration reads through node-rdkafka (slower).
// `--require` makes a missing piece an error (CI, where the toolchain is installed).
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, mkdirSync } = require('node:fs');
const { dirname, join } = require('node:path');

const root = join(__dirname, '..', '..');
const source = join(root, 'src/kafka/rdkafka/native/batch.c');
const out = join(root, 'dist/native/rdkafka-batch.node');
const required = process.argv.includes('--require');

function skip(reason) {
  const line = `build: the native batch reader was not built (${reason}); restoration reads through node-rdkafka instead`;
  if (required) {
    process.stderr.write(`${line}\n`);
    process.exit(1);
  }
  process.stdout.write(`${line}\n`);
  process.exit(0);
}

const nodeIncludes = [process.env.npm_config_nodedir, join(dirname(process.execPath), '..')]
  .filter(Boolean)
  .map((dir) => join(dir, 'include', 'node'))
  .filter((dir) => existsSync(join(dir, 'node_api.h')));
if (nodeIncludes.length === 0) skip("Node's headers (include/node/node_api.h) are not next to this node");
let rdkafka;
try {
  rdkafka = join(dirname(require.resolve('node-rdkafka/package.json', { paths: [root] })), 'build', 'deps', 'include');
} catch {
  skip('node-rdkafka is not installed');
}
if (!existsSync(join(rdkafka, 'librdkafka', 'rdkafka.h'))) skip(`no librdkafka header under ${rdkafka}`);
const cc = process.env.CC || 'cc';
mkdirSync(dirname(out), { recursive: true });
const args = [
  '-O2',
  '-fPIC',
  '-shared',
  '-std=gnu11',
  '-Wall',
  '-Wextra',
  '-Werror',
  '-isystem',
  nodeIncludes[0],
  '-isystem',
  rdkafka,
  '-o',
  out,
  source,
  '-ldl',
];
const r = spawnSync(cc, args, { stdio: ['ignore', 'inherit', 'inherit'] });
if (r.error) skip(`${cc}: ${r.error.message}`);
if (r.status !== 0) skip(`${cc} exited with ${r.status}`);
process.stdout.write(`build: compiled the native batch reader into ${join('dist', 'native', 'rdkafka-batch.node')}\n`);
