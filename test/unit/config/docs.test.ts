import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configTable } from '../../../src/config';
import { cleanEnv, ROOT, runTs, STACK_TRACE } from '../../support/cli';

describe('configuration: docs and the config command', function () {
  this.timeout(30_000);

  it('README.md carries exactly the table generated from the schema', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const m = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme);
    assert.ok(m, 'README.md lacks the config-table markers');
    assert.equal(m[1], configTable(), 'README table is stale: run `npm run config -- table` and paste it between the markers');
  });

  it('`npm run config` prints the effective values with secrets hidden', async () => {
    const res = await runTs(
      'src/cli/config.ts',
      [],
      cleanEnv({ STREAMING_SCHEMA_REGISTRY__USERNAME: 'svc', STREAMING_SCHEMA_REGISTRY__PASSWORD: 'hunter2', STREAMING_TOPICS__PARTITIONS: '3' }),
    );
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^STREAMING_TOPICS__PARTITIONS=3$/m);
    assert.match(res.stdout, /^STREAMING_SCHEMA_REGISTRY__USERNAME="svc"$/m);
    assert.match(res.stdout, /^STREAMING_SCHEMA_REGISTRY__PASSWORD=\(secret, set\)$/m);
    assert.doesNotMatch(res.stdout, /hunter2/);
  });

  it('`npm run config` with a bad variable exits 2 with one line for it', async () => {
    const res = await runTs('src/cli/config.ts', [], cleanEnv({ STREAMING_LOG__LEVEL: 'chatty' }));
    assert.equal(res.code, 2);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /^ {2}STREAMING_LOG__LEVEL: got "chatty"; expected one of fatal, error, warn, info, debug, trace, silent$/m);
    assert.doesNotMatch(res.stderr, STACK_TRACE);
  });
});
