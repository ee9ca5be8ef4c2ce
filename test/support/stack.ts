/**
 * Integration tests call `useStack()` in their describe block: the first call brings the
 * local stack up (or reuses a running one), and a root hook stops at the end only what
 * this test run started. Broker-free unit tests never touch it.
 */
import { loadConfig, type Config } from '../../src/config';
import { stackUp, stopStarted, type StackStarted } from '../../ops/kafka/stack';

let up: Promise<{ config: Config; started: StackStarted }> | undefined;
const log = (line: string): void => {
  process.stdout.write(`      [stack] ${line}\n`);
};

/** Registers a before-hook that waits for the stack; returns a getter for its configuration. */
export function useStack(): () => Config {
  let config: Config | undefined;
  before(async function () {
    this.timeout(600_000);
    up ??= (async () => {
      const c = loadConfig();
      return { config: c, started: await stackUp(c, process.env, log, { rollback: true }) };
    })();
    config = (await up).config;
  });
  return () => {
    if (!config) throw new Error('useStack(): the stack is not up (did its before-hook fail?)');
    return config;
  };
}

after(async function () {
  this.timeout(120_000);
  if (!up) return;
  const { config, started } = await up.catch(() => ({ config: undefined, started: undefined }));
  if (!config || !started) return;
  await stopStarted(config, started, log);
});
