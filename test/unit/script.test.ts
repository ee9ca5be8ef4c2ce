import { strict as assert } from 'node:assert';
import { scriptCommand } from '../../src/script';

describe('starting a sibling script', () => {
  it('from source runs the .ts sibling through tsx; from the build, the .js sibling with plain node', () => {
    assert.deepEqual(scriptCommand('/app/src/cli/start-fanout.ts', '/app/src/cli', 'fanout'), {
      command: process.execPath,
      args: ['--import', 'tsx', '/app/src/cli/fanout.ts'],
    });
    assert.deepEqual(scriptCommand('/app/dist/src/eos-verify/runner.js', '/app/dist/src/eos-verify', 'app'), {
      command: process.execPath,
      args: ['/app/dist/src/eos-verify/app.js'],
    });
  });
});
