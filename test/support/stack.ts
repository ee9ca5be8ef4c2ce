/**
 * Integration tests call `useStack()` in their describe block: the first call brings the
 * local stack up (or reuses a running one), and a root hook at the end deletes the topics
 * that appeared during the run (on the local broker; thousands left behind slow every
 * broker start) and stops only what this test run started. Broker-free unit tests never touch it.
 */
import { loadConfig, localStackParts, type Config } from '../../src/config';
import { stackUp, stopStarted, type StackStarted } from '../../ops/kafka/stack';
import { deleteNewTopics, topicNames } from '../../ops/kafka/prune';

let up: Promise<{ config: Config; started: StackStarted; topics: Set<string> | undefined }> | undefined;
const log = (line: string): void => {
  process.stdout.write(`      [stack] ${line}\n`);
};

/** Registers a before-hook that waits for the stack; returns a getter for its configuration. */
export function useStack(): () => Config {
  let config: Config | undefined;
  before(async function () {
    this.timeout(1_900_000); // a broker with many partitions on disk loads them first (up to 30 min, saying how it goes), then fails typed
    up ??= (async () => {
      const c = loadConfig();
      const started = await stackUp(c, process.env, log, { rollback: true });
      // The snapshot only serves the clean-up: without it, nothing is deleted at the end.
      const topics = localStackParts().kafka ? await topicNames(c).catch(() => undefined) : undefined;
      return { config: c, started, topics };
    })();
    config = (await up).config;
  });
  return () => {
    if (!config) throw new Error('useStack(): the stack is not up (did its before-hook fail?)');
    return config;
  };
}

after(async function () {
  this.timeout(300_000);
  if (!up) return;
  const { config, started, topics } = await up.catch(() => ({ config: undefined, started: undefined, topics: undefined }));
  if (!config || !started) return;
  try {
    // A benchmark's topics (bench-…) are its own to delete.
    if (topics)
      await deleteNewTopics(config, topics, log, 'this test run', (n) => !n.startsWith('bench-')).catch((err: Error) =>
        log(`could not delete this run's topics: ${err.message}`),
      );
  } finally {
    await stopStarted(config, started, log);
  }
});
