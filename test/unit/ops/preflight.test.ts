import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../../support/cli';

/** `npm test` and `npm start` on a machine that lacks their programs: one line before anything starts. */
describe('preflight of npm test and npm start', () => {
  const preflight = (target: string, env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, [join(ROOT, 'ops/build/preflight.js'), target], { env, encoding: 'utf8' });

  it('names every missing program and the command that installs them, in one line, and exits 1', () => {
    // No PATH: no java, mvn, promtool, helm, python3 — and no apt-get, so nothing is installed.
    const res = preflight('test', { PATH: '/nonexistent', HOME: '/nonexistent', CHROMIUM_PATH: '/nonexistent/chromium' });
    assert.equal(res.status, 1);
    assert.equal(res.stdout, '');
    assert.equal(
      res.stderr,
      'SA_ERR_SETUP: npm test needs java, maven, chromium, promtool, helm, python3 with venv, not found on this machine\n  → run `sudo npm run setup` (Debian/Ubuntu), or install them yourself (README: Quick start)\n',
    );
  });

  it('npm start needs only Java and Maven, and nothing at all against a configured Kafka', () => {
    const local = preflight('start', { PATH: '/nonexistent', HOME: '/nonexistent' });
    assert.match(local.stderr, /^SA_ERR_SETUP: npm start needs java, maven, not found/);
    const remote = preflight('start', { PATH: '/nonexistent', HOME: '/nonexistent', STREAMING_KAFKA__BOOTSTRAP_SERVERS: 'kafka:9092' });
    assert.equal(remote.status, 0);
  });

  it('passes on this machine (the suite runs after it)', () => {
    assert.equal(preflight('test', process.env).status, 0);
  });
});
