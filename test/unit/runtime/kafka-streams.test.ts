import { strict as assert } from 'node:assert';
import { KafkaStreams, Serdes, StreamsBuilder } from '../../../src';
import { createLogger } from '../../../src/logger';

function topology(): ReturnType<StreamsBuilder['build']> {
  const b = new StreamsBuilder();
  b.stream('in', { keySerde: Serdes.String(), valueSerde: Serdes.String() }).to('out', { keySerde: Serdes.String(), valueSerde: Serdes.String() });
  return b.build();
}

describe('KafkaStreams lifecycle (no broker)', function () {
  this.timeout(30_000);
  const quiet = createLogger({ level: 'silent' });

  it('start() against an address where no broker answers fails with SA_ERR_KAFKA_UNREACHABLE and ends in ERROR', async () => {
    const kafka = { 'bootstrap.servers': '127.0.0.1:1' };
    const streams = new KafkaStreams(topology(), { applicationId: 'unreachable', kafka, logger: quiet, handleSignals: false });
    await assert.rejects(streams.start(), (err: { code?: string; message: string; hint?: string }) => {
      assert.equal(err.code, 'SA_ERR_KAFKA_UNREACHABLE');
      assert.match(err.message, /no Kafka broker answered at 127\.0\.0\.1:1 within 10 s/);
      assert.match(err.hint ?? '', /STREAMING_KAFKA__BOOTSTRAP_SERVERS/);
      return true;
    });
    assert.equal(streams.state, 'ERROR');
    await assert.rejects(streams.start(), { code: 'SA_ERR_STREAMS_STATE' });
    await streams.close();
  });

  it('close() before start() ends in NOT_RUNNING and start() is then refused', async () => {
    const streams = new KafkaStreams(topology(), {
      applicationId: 'never-started',
      kafka: { 'bootstrap.servers': '127.0.0.1:9092' },
      logger: quiet,
      handleSignals: false,
    });
    const states: string[] = [];
    streams.on('stateChange', (s) => states.push(s));
    await streams.close();
    assert.deepEqual(states, ['NOT_RUNNING']);
    await assert.rejects(streams.start(), { code: 'SA_ERR_STREAMS_STATE' });
  });

  it('refuses an invalid configuration at construction, before touching Kafka', () => {
    assert.throws(() => new KafkaStreams(topology(), { applicationId: 'x', kafka: { 'bootstrap.servers': '127.0.0.1:9092' }, commitIntervalMs: 20_000 }), {
      code: 'SA_ERR_STREAMS_CONFIG',
    });
  });
});
