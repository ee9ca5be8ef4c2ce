// After tsc (npm run build): copies what the compiled code reads at run time and tsc does
// not emit — the dashboard's static files and the Avro schemas — next to the compiled
// modules that read them, and marks the executable executable. Plain JavaScript, so it
// runs wherever `npm run build` runs (also from `prepare`, on a git install).
'use strict';
const { chmodSync, cpSync, mkdirSync, readdirSync, rmSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..', '..');
if (process.argv[2] === '--clean') {
  // Before tsc: no module of an older build (a renamed or deleted file) may stay behind.
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  process.exit(0);
}
const copies = [
  ['src/fanout/dashboard', 'dist/src/fanout/dashboard'],
  ['schemas', 'dist/schemas', (name) => name.endsWith('.avsc')],
];
for (const [from, to, only] of copies) {
  mkdirSync(join(root, to), { recursive: true });
  for (const name of readdirSync(join(root, from))) {
    if (!only || only(name)) cpSync(join(root, from, name), join(root, to, name));
  }
}
chmodSync(join(root, 'dist/src/cli/main.js'), 0o755);
process.stdout.write('build: copied the dashboard and the schemas into dist/\n');
