// The last step of `npm run build`: compiles the native batch readers with the compilers
// the native dependencies already need:
//   src/kafka/rdkafka/native/batch.c → dist/native/rdkafka-batch.node (restoration; Node-API,
//     against node_api.h and the librdkafka header node-rdkafka installed);
//   src/kafka/rdkafka/native/group.cc → dist/native/rdkafka-group-batch.node (processing;
//     a V8 addon on node-rdkafka's own consumer, against its headers and nan, for this
//     Node version only).
// Both are optional: without a compiler or a header, the build says so and goes on, and
// the runtime reads through node-rdkafka (slower). `--require` makes a missing piece an
// error (CI, where the toolchain is installed).
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, mkdirSync, readFileSync } = require('node:fs');
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

// The running Node's own headers first: the group reader is built for this Node's ABI (an npmrc's
// nodedir may name another Node's).
const nodeIncludes = [join(dirname(process.execPath), '..'), process.env.npm_config_nodedir]
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
const nodeInclude = nodeIncludes[0];
mkdirSync(dirname(out), { recursive: true });
compile(process.env.CC || 'cc', [
  '-O2',
  '-fPIC',
  '-shared',
  '-std=gnu11',
  '-Wall',
  '-Wextra',
  '-Werror',
  '-isystem',
  nodeInclude,
  '-isystem',
  rdkafka,
  '-o',
  out,
  source,
  '-ldl',
]);
process.stdout.write(`build: compiled the native batch reader into ${join('dist', 'native', 'rdkafka-batch.node')}\n`);
buildGroup();

function compile(compiler, args) {
  const r = spawnSync(compiler, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error) skip(`${compiler}: ${r.error.message}`);
  if (r.status !== 0) skip(`${compiler} exited with ${r.status}`);
}

/**
 * The group consumer's reader: a V8 addon, so it takes the defines node-gyp would give an
 * addon of this Node (its config.gypi); a Node built with pointer compression or V8's
 * sandbox lays V8's objects out otherwise, and is left to node-rdkafka's consume.
 */
function buildGroup() {
  const abi = /#define NODE_MODULE_VERSION (\d+)/.exec(readFileSync(join(nodeInclude, 'node_version.h'), 'utf8'))?.[1];
  if (abi !== process.versions.modules) {
    process.stdout.write(
      `build: the Node headers at ${nodeInclude} are not this Node's (ABI ${abi}, running ${process.versions.modules}): processing reads through node-rdkafka\n`,
    );
    return;
  }
  const config = readFileSync(join(nodeInclude, 'config.gypi'), 'utf8');
  if (/'v8_enable_(pointer_compression|sandbox)': 1/.test(config)) {
    process.stdout.write('build: this Node is built with pointer compression or the V8 sandbox: processing reads through node-rdkafka\n');
    return;
  }
  const rdkafkaRoot = dirname(require.resolve('node-rdkafka/package.json', { paths: [root] }));
  const nan = dirname(require.resolve('nan/package.json', { paths: [rdkafkaRoot, root] }));
  const version = JSON.parse(readFileSync(join(rdkafkaRoot, 'package.json'), 'utf8')).version;
  const target = join(root, 'dist/native/rdkafka-group-batch.node');
  const defines = [
    'NODE_GYP_MODULE_NAME=rdkafka_group_batch',
    'USING_UV_SHARED=1',
    'USING_V8_SHARED=1',
    'V8_DEPRECATION_WARNINGS=1',
    '_GLIBCXX_USE_CXX11_ABI=1',
    '_FILE_OFFSET_BITS=64',
    '_LARGEFILE_SOURCE',
    'V8_ENABLE_WEBASSEMBLY',
    '__STDC_FORMAT_MACROS',
    'BUILDING_NODE_EXTENSION',
    `NODE_RDKAFKA_VERSION="${version}"`,
  ].map((d) => `-D${d}`);
  const includes = [nodeInclude, nan, rdkafkaRoot, join(rdkafka, 'librdkafka')].flatMap((d) => ['-isystem', d]);
  compile(process.env.CXX || 'c++', [
    '-O2',
    '-fPIC',
    '-shared',
    '-std=c++20',
    '-fno-exceptions',
    '-fno-strict-aliasing',
    '-Wall',
    '-Wextra',
    '-Wno-unused-parameter',
    '-Werror',
    ...defines,
    ...includes,
    '-o',
    target,
    join(root, 'src/kafka/rdkafka/native/group.cc'),
    '-ldl',
  ]);
  process.stdout.write(
    `build: compiled the processing batch reader into ${join('dist', 'native', 'rdkafka-group-batch.node')} (node-rdkafka ${version}, Node ${process.version})\n`,
  );
}
