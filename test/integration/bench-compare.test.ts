import { strict as assert } from 'node:assert';
import { cleanEnv, runTs } from '../support/cli';
import { useStack } from '../support/stack';

/**
 * The short version of `npm run bench -- compare`: from this tree, the Kafka Streams peer
 * is built by Maven and both sides run each scenario over the same input on the real
 * broker; their outputs must agree (what the timed runs then compare is the same work).
 */
describe('npm run bench -- compare --check-only: the Kafka Streams peer computes what this project computes (real broker, Maven)', function () {
  this.timeout(600_000);
  useStack();

  for (const scenario of ['engine', 'windowed', 'pipeline'] as const) {
    it(`${scenario}: both sides' outputs agree on 3,000 input records`, async () => {
      const res = await runTs('ops/bench/cli.ts', ['compare', scenario, '--check-only', '--check-records', '3000', '--partitions', '3'], cleanEnv({}), 480_000);
      assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
      assert.match(res.stdout, /correctness: both sides computed the same [\d,]+ outputs from the same 3,000 input records/);
    });
  }
});
