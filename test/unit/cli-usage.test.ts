import { strict as assert } from 'node:assert';
import { cleanEnv, runTs, STACK_TRACE } from '../support/cli';

/** Command-line entry points answer bad arguments before touching Kafka. */
describe('command-line tools: bad arguments', function () {
  this.timeout(30_000);

  // Every CLI, from source; the built ones are run by test/integration/production-install.test.ts.
  const CLIS: [string, string[], RegExp][] = [
    ['src/cli/main.ts', [], /^usage: streaming-analytics <command>/],
    ['src/cli/main.ts', ['processor'], /^usage: npm run processor/],
    ['src/cli/processor.ts', [], /^usage: npm run processor/],
    ['src/cli/fanout.ts', [], /^usage: npm run fanout/],
    ['src/cli/generate.ts', [], /^usage: npm run generate/],
    ['src/cli/config.ts', [], /^usage: npm run config/],
    ['ops/start/start.ts', [], /^usage: npm start/],
    ['schemas/register.ts', [], /^usage: npm run schemas/],
    ['src/eos-verify/cli.ts', [], /^usage: npm run eos-verify/],
    ['ops/kafka/cli.ts', [], /^usage: npm run stack/],
    ['ops/bench/cli.ts', [], /^usage: npm run bench/],
  ];

  it('every CLI answers --help with its usage and exits 0, starting nothing', async () => {
    for (const [script, before, usage] of CLIS) {
      // A Kafka address that cannot answer: a CLI that started its service instead would fail or hang.
      const res = await runTs(script, [...before, '--help'], cleanEnv({ STREAMING_KAFKA__BOOTSTRAP_SERVERS: '127.0.0.1:1' }));
      assert.equal(res.code, 0, `${script} --help: ${res.stderr}`);
      assert.match(res.stdout, usage, script);
      assert.ok(res.stdout.split('\n').length > 3, `${script} --help says more than the usage line`);
    }
  });

  it('every CLI refuses an unknown option with SA_ERR_USAGE and exit 2', async () => {
    for (const [script, before] of CLIS) {
      const args = script.includes('ops/kafka')
        ? ['status', '--nodse', '3']
        : script.includes('bench')
          ? ['engine', '--nodse']
          : script.includes('register')
            ? ['list', '--nodse']
            : before.length === 0 && script.endsWith('main.ts')
              ? ['config', '--nodse']
              : [...before, '--nodse'];
      const res = await runTs(script, args, cleanEnv({ STREAMING_KAFKA__BOOTSTRAP_SERVERS: '127.0.0.1:1' }));
      assert.equal(res.code, 2, `${script}: ${res.stderr}`);
      assert.match(res.stderr, /^SA_ERR_USAGE: Unknown option '--nodse'\n {2}→ usage: /, script);
      assert.doesNotMatch(res.stderr, STACK_TRACE);
    }
  });

  it('npm run eos-verify with an unknown option prints the usage and exits 2', async () => {
    const res = await runTs('src/eos-verify/cli.ts', ['--recrods', '10'], cleanEnv({}));
    assert.equal(res.code, 2);
    assert.match(res.stderr, /^SA_ERR_USAGE: Unknown option '--recrods'\n {2}→ usage: npm run eos-verify -- /);
    assert.doesNotMatch(res.stderr, STACK_TRACE);
  });

  it('npm run bench with an unknown benchmark or a bad value prints the usage and exits 2', async () => {
    const unknown = await runTs('ops/bench/cli.ts', ['enigne'], cleanEnv({}));
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^SA_ERR_USAGE: unknown command "enigne"\n {2}→ usage: npm run bench -- \[compare\] engine\|windowed\|pipeline\|restore\|ws/);
    const bad = await runTs('ops/bench/cli.ts', ['engine', '--records=-5'], cleanEnv({}));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^SA_ERR_USAGE: --records needs a whole number ≥ 1, not -5/);
    const noScenario = await runTs('ops/bench/cli.ts', ['compare'], cleanEnv({}));
    assert.equal(noScenario.code, 2);
    assert.match(noScenario.stderr, /^SA_ERR_USAGE: compare needs a scenario: engine, windowed or pipeline/);
    const notCompared = await runTs('ops/bench/cli.ts', ['compare', 'ws'], cleanEnv({}));
    assert.equal(notCompared.code, 2);
    assert.match(notCompared.stderr, /^SA_ERR_USAGE: compare takes engine, windowed or pipeline, not ws/);
  });

  it('npm run schemas -- register against a registry that does not answer says so and how to fix it', async () => {
    const res = await runTs('schemas/register.ts', ['register'], cleanEnv({ STREAMING_SCHEMA_REGISTRY__URL: 'http://127.0.0.1:1' }));
    assert.equal(res.code, 1);
    assert.match(
      res.stderr,
      /^SA_ERR_SCHEMA_REGISTRATION: schemas\/analytics-event\.avsc → analytics-events-value: the registry at http:\/\/127\.0\.0\.1:1 did not answer/,
    );
    assert.match(res.stderr, /→ start it with `npm run stack -- up`, or set STREAMING_SCHEMA_REGISTRY__URL/);
    assert.doesNotMatch(res.stderr, STACK_TRACE);
  });

  it('npm run generate with a bad option or value prints the usage and exits 2', async () => {
    const unknown = await runTs('src/cli/generate.ts', ['--rat', '10'], cleanEnv({}));
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^SA_ERR_USAGE: Unknown option '--rat'\n {2}→ usage: npm run generate -- \[--rate N\] \[--duration S\] \[--seed N\]/);
    const bad = await runTs('src/cli/generate.ts', ['--rate', '0'], cleanEnv({}));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^SA_ERR_USAGE: --rate needs a whole number ≥ 1, not 0/);
    assert.doesNotMatch(unknown.stderr + bad.stderr, STACK_TRACE);
  });

  it('npm run processor without its model says which directory lacks it, before touching Kafka', async () => {
    const res = await runTs(
      'src/cli/processor.ts',
      [],
      cleanEnv({ STREAMING_REALTIME_ML__MODELS_DIR: '/nonexistent-models', STREAMING_PROCESSOR__QUERY_HOST: '127.0.0.1' }),
    );
    assert.equal(res.code, 1);
    assert.match(res.stderr, /^SA_ERR_MODEL_NOT_FOUND: no model version found in \/nonexistent-models\/anomaly-detector/);
    assert.doesNotMatch(res.stderr, STACK_TRACE);
  });

  it('npm start against a configured Kafka that does not answer fails with a typed error, no stack trace', async () => {
    const res = await runTs(
      'ops/start/start.ts',
      [],
      cleanEnv({
        STREAMING_KAFKA__BOOTSTRAP_SERVERS: '127.0.0.1:1',
        STREAMING_PROCESSOR__QUERY_HOST: '127.0.0.1',
        STREAMING_PROCESSOR__QUERY_PORT: '18999',
        STREAMING_LOG__LEVEL: 'silent',
      }),
      60_000,
    );
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.match(res.stderr, /^SA_ERR_KAFKA_UNREACHABLE: /m);
    assert.doesNotMatch(res.stderr, STACK_TRACE);
  });

  it('npm run processor on a non-loopback address without token settings refuses to start, naming the settings', async () => {
    const res = await runTs('src/cli/processor.ts', [], cleanEnv({ STREAMING_PROCESSOR__QUERY_HOST: '0.0.0.0' }));
    assert.equal(res.code, 1);
    assert.match(res.stderr, /^SA_ERR_CONFIG_INVALID: the query API cannot verify tokens: HS256 is accepted but STREAMING_AUTH__JWT_SECRET is not set/);
    assert.match(res.stderr, /STREAMING_PROCESSOR__QUERY_HOST=127\.0\.0\.1/, 'the hint names the local alternative');
    const audience = await runTs(
      'src/cli/processor.ts',
      [],
      cleanEnv({ STREAMING_AUTH__JWT_ALGORITHMS: 'RS256', STREAMING_AUTH__JWKS_URL: 'https://idp.example.com/jwks' }),
    );
    assert.match(audience.stderr, /STREAMING_PROCESSOR__QUERY_AUDIENCE must name the audience/);
    assert.doesNotMatch(res.stderr + audience.stderr, STACK_TRACE);
  });

  it('npm run fanout without a key to verify tokens with says which setting is missing, before touching Kafka', async () => {
    const res = await runTs('src/cli/fanout.ts', [], cleanEnv({ STREAMING_AUTH__JWT_ALGORITHMS: 'HS256,ES256' }));
    assert.equal(res.code, 1);
    assert.match(
      res.stderr,
      /^SA_ERR_CONFIG_INVALID: the fan-out cannot verify tokens: HS256 is accepted but STREAMING_AUTH__JWT_SECRET is not set; ES256 is accepted but neither STREAMING_AUTH__JWT_PUBLIC_KEY_FILE nor STREAMING_AUTH__JWKS_URL is set; tokens are verified with a public key, so STREAMING_WEBSOCKET__JWT_AUDIENCE must name the audience/,
    );
    assert.doesNotMatch(res.stderr, STACK_TRACE);
  });

  it('npm run fanout against a Kafka that does not answer fails with a typed error, no stack trace', async () => {
    const res = await runTs(
      'src/cli/fanout.ts',
      [],
      cleanEnv({ STREAMING_KAFKA__BOOTSTRAP_SERVERS: '127.0.0.1:1', STREAMING_AUTH__JWT_SECRET: 'x'.repeat(32), STREAMING_LOG__LEVEL: 'silent' }),
      60_000,
    );
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.match(res.stderr, /^SA_ERR_KAFKA_UNREACHABLE: /m);
    assert.doesNotMatch(res.stderr, STACK_TRACE);
  });

  it("npm start refuses to put the dashboard's development tokens on a non-loopback address, before starting anything", async () => {
    const res = await runTs('ops/start/start.ts', [], cleanEnv({ STREAMING_WEBSOCKET__HOST: '0.0.0.0' }));
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.match(
      res.stderr,
      /^SA_ERR_CONFIG_INVALID: npm start turns on development tokens for the dashboard, which must not face the network, but STREAMING_WEBSOCKET__HOST is 0\.0\.0\.0/,
    );
    assert.doesNotMatch(res.stdout, /running everything locally/);
    assert.doesNotMatch(res.stderr, STACK_TRACE);
  });
});
