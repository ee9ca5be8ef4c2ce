// Before `npm test` and `npm start` (their pre-scripts): are the programs they need on
// this machine? Missing ones are installed by `npm run setup` (ops/setup.sh) when this
// runs as root on Debian/Ubuntu; otherwise one line names them and the command that
// installs them, before anything starts — not a failing test halfway through the suite.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..', '..');
/** Where ops/setup.sh puts the tools it builds (helm). */
const tools = join(process.env.XDG_CACHE_HOME || join(require('node:os').homedir(), '.cache'), 'streaming-analytics', 'tools', 'bin');
const runs = (cmd, args) => !spawnSync(cmd, args, { stdio: 'ignore' }).error && spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const CHECKS = {
  'Node.js 22 or later': { for: ['start', 'test'], ok: () => Number(process.versions.node.split('.')[0]) >= 22 },
  java: { for: ['start', 'test'], ok: () => runs('java', ['-version']) },
  maven: { for: ['start', 'test'], ok: () => runs('mvn', ['-v']) },
  chromium: { for: ['test'], ok: () => existsSync(process.env.CHROMIUM_PATH || '/usr/bin/chromium') },
  promtool: { for: ['test'], ok: () => runs('promtool', ['--version']) },
  helm: { for: ['test'], ok: () => runs('helm', ['version']) || existsSync(join(tools, 'helm')) },
  'python3 with venv': { for: ['test'], ok: () => runs('python3', ['-m', 'venv', '--help']) },
};

const target = process.argv[2] === 'start' ? 'start' : 'test';
// npm start with a configured Kafka starts no local stack: it needs no Java.
if (target === 'start' && process.env.STREAMING_KAFKA__BOOTSTRAP_SERVERS) process.exit(0);
const missing = () =>
  Object.entries(CHECKS)
    .filter(([, c]) => c.for.includes(target) && !c.ok())
    .map(([name]) => name);

let lacking = missing();
if (lacking.length === 0) process.exit(nativeModulesLoad() ? 0 : 1);
const canInstall = process.getuid && process.getuid() === 0 && runs('apt-get', ['--version']);
if (canInstall) {
  process.stdout.write(`npm ${target}: ${lacking.join(', ')} missing — running npm run setup\n`);
  const setup = spawnSync('bash', [join(root, 'ops/setup.sh')], { stdio: 'inherit' });
  lacking = setup.status === 0 ? missing() : lacking;
  if (lacking.length === 0) process.exit(nativeModulesLoad() ? 0 : 1);
  if (setup.status === 0 && lacking.length === 1 && lacking[0].startsWith('Node.js')) {
    // This process is still the old Node, and node_modules was built for it.
    process.stderr.write(
      `SA_ERR_SETUP: npm run setup installed a newer Node.js; node_modules was built for Node ${process.versions.node}\n  → run \`npm ci\`, then \`npm ${target}\` again\n`,
    );
    process.exit(1);
  }
}
process.stderr.write(
  `SA_ERR_SETUP: npm ${target} needs ${lacking.join(', ')}, not found on this machine\n  → run \`sudo npm run setup\` (Debian/Ubuntu), or install them yourself (README: Quick start)\n`,
);
process.exit(1);

/** The native modules load with this Node (not built for another one's ABI, or with the wrong headers). */
function nativeModulesLoad() {
  const res = spawnSync(process.execPath, ['-e', "require('node-rdkafka'); require('rocksdb')"], { cwd: root, encoding: 'utf8' });
  if (res.status === 0) return true;
  const why =
    /compiled against a different Node\.js version using\s+NODE_MODULE_VERSION \d+|bad_alloc|Could not locate the bindings file/.exec(res.stderr)?.[0] ??
    res.stderr.split('\n').find((l) => l.trim()) ??
    'they do not load';
  process.stderr.write(
    `SA_ERR_SETUP: node_modules' native modules do not load with Node ${process.versions.node}: ${why.replace(/\s+/g, ' ').trim()}\n  → run \`npm_config_nodedir=${join(process.execPath, '..', '..')} npm ci\` (a nodedir in ~/.npmrc may point at another Node's headers)\n`,
  );
  return false;
}
