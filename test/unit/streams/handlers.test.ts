import { strict as assert } from 'node:assert';
import { DLQ_HEADERS, ExceptionHandlers, Serdes, StreamsBuilder, TopologyTestDriver, type Failure, type Serializer, type StreamsOptions } from '../../../src';

const S = Serdes.String();
const J = Serdes.Json<{ n: number }>();

function driverFor(options: Partial<StreamsOptions>, process: (v: { n: number } | null) => string = (v) => String(v?.n)): TopologyTestDriver {
  const b = new StreamsBuilder();
  b.stream('in', { keySerde: S, valueSerde: J }).mapValues(process).to('out', { keySerde: S, valueSerde: S });
  return new TopologyTestDriver(b.build(), { applicationId: 'handlers', ...options }, { initialWallClockTimeMs: 7_000 });
}

function header(headers: readonly { key: string; value: Buffer }[], key: string): string | undefined {
  return headers.find((h) => h.key === key)?.value.toString('utf8');
}

describe('error handlers', () => {
  it('by default, a poison pill goes to <applicationId>-dlq with the reason in its headers, and processing continues', () => {
    const driver = driverFor({});
    const input = driver.createInputTopic('in', S, J);
    input.pipeInput('a', { n: 1 });
    input.pipeRawInput(Buffer.from('bad'), Buffer.from('{not json'), { headers: [{ key: 'origin', value: Buffer.from('sensor-9') }] });
    input.pipeInput('c', { n: 3 });
    assert.deepEqual(driver.createOutputTopic('out', S, S).readValuesToList(), ['1', '3']);

    assert.equal(driver.deadLetterTopic(), 'handlers-dlq');
    const dlq = driver.createOutputTopic('handlers-dlq', Serdes.Bytes(), Serdes.Bytes()).readRecordsToList();
    assert.equal(dlq.length, 1);
    const r = dlq[0]!;
    assert.equal(r.key?.toString(), 'bad');
    assert.equal(r.value?.toString(), '{not json', 'the raw bytes, untouched');
    assert.equal(r.timestamp, 7_000);
    assert.equal(header(r.headers, DLQ_HEADERS.code), 'SA_ERR_DESERIALIZATION');
    assert.match(header(r.headers, DLQ_HEADERS.message)!, /not valid JSON/);
    assert.equal(header(r.headers, DLQ_HEADERS.topic), 'in');
    assert.equal(header(r.headers, DLQ_HEADERS.partition), '0');
    assert.equal(header(r.headers, DLQ_HEADERS.offset), '1');
    assert.equal(header(r.headers, DLQ_HEADERS.timestamp), '7000');
    assert.equal(header(r.headers, DLQ_HEADERS.taskId), '0_0');
    assert.equal(header(r.headers, 'origin'), 'sensor-9', 'the original headers are kept');
  });

  it('a null dead-letter topic skips the record without writing it anywhere', () => {
    const driver = driverFor({ deadLetterTopic: null });
    driver.createInputTopic('in', S, J).pipeRawInput(null, Buffer.from('{'));
    assert.equal(driver.deadLetterTopic(), null);
    assert.equal(driver.createOutputTopic('handlers-dlq', S, S).isEmpty(), true);
  });

  it('a deserialization handler that answers fail stops with SA_ERR_DESERIALIZATION naming the record', () => {
    const seen: Failure[] = [];
    const driver = driverFor({
      deserializationExceptionHandler: (f) => {
        seen.push(f);
        return ExceptionHandlers.fail();
      },
    });
    assert.throws(() => driver.createInputTopic('in', S, J).pipeRawInput(null, Buffer.from('{')), {
      code: 'SA_ERR_DESERIALIZATION',
      message: /task 0_0: cannot read the record at in\/0@0/,
    });
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.taskId, '0_0');
    assert.equal(seen[0]!.record.value?.toString(), '{');
  });

  it('a processor that throws stops the task by default, with SA_ERR_PROCESSING_FAILED and the cause', () => {
    const boom = new Error('division by zero');
    const driver = driverFor({}, () => {
      throw boom;
    });
    assert.throws(
      () => driver.createInputTopic('in', S, J).pipeInput('k', { n: 1 }),
      (e: { code?: string; message: string; cause?: unknown }) => {
        assert.equal(e.code, 'SA_ERR_PROCESSING_FAILED');
        assert.match(e.message, /task 0_0: processing the record at in\/0@0 failed: division by zero/);
        assert.equal(e.cause, boom);
        return true;
      },
    );
  });

  it('a processing handler that answers continue skips the failing record', () => {
    const driver = driverFor({ processingExceptionHandler: ExceptionHandlers.continue }, (v) => {
      if (v?.n === 2) throw new Error('no twos');
      return String(v?.n);
    });
    driver.createInputTopic('in', S, J).pipeKeyValueList([
      ['a', { n: 1 }],
      ['b', { n: 2 }],
      ['c', { n: 3 }],
    ]);
    assert.deepEqual(driver.createOutputTopic('out', S, S).readValuesToList(), ['1', '3']);
  });

  it('an output that cannot be serialized fails with SA_ERR_PRODUCTION_FAILED, or is dropped when the handler continues', () => {
    const picky: Serializer<string> = {
      serialize: (_t, v) => {
        if (v === 'x') throw new Error('x is not allowed');
        return Buffer.from(v);
      },
    };
    const build = (options: Partial<StreamsOptions>): TopologyTestDriver => {
      const b = new StreamsBuilder();
      b.stream('in', { keySerde: S, valueSerde: S })
        .mapValues((v) => v ?? '')
        .to('out', { keySerde: S, valueSerde: picky });
      return new TopologyTestDriver(b.build(), { applicationId: 'handlers', ...options });
    };
    assert.throws(() => build({}).createInputTopic('in', S, S).pipeInput('k', 'x'), {
      code: 'SA_ERR_PRODUCTION_FAILED',
      message: /cannot write a record to "out" \(from in\/0@0\): x is not allowed/,
    });
    const lenient = build({ productionExceptionHandler: ExceptionHandlers.continue });
    lenient.createInputTopic('in', S, S).pipeKeyValueList([
      ['1', 'a'],
      ['2', 'x'],
      ['3', 'b'],
    ]);
    assert.deepEqual(lenient.createOutputTopic('out', S, S).readValuesToList(), ['a', 'b']);
  });
});
