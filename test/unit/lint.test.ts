import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../support/cli';

describe('the formatter and linter (Biome, biome.jsonc)', function () {
  this.timeout(60_000);

  it('finds nothing to change or report in the tree (npm run lint:fix applies the formatting)', () => {
    const run = spawnSync(join(ROOT, 'node_modules', '.bin', 'biome'), ['check', '--error-on-warnings', '--max-diagnostics=50', '.'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, `biome check reported:\n${run.stdout}${run.stderr}`);
  });
});
