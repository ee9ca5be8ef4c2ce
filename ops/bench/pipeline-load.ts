/**
 * The latency half of `npm run bench -- pipeline`, in its own process so that neither the
 * load generator nor the reader shares an event loop with the application it measures:
 * produces generated events at a rate for some seconds (Avro, event time = now), reads
 * ml-predictions read_committed, and prints one JSON line: events produced and, per
 * prediction of those events, the time from its window's latest event to when it was read.
 *
 *   node --import tsx ops/bench/pipeline-load.ts <events topic> <predictions topic> <rate> <seconds>
 */
import { randomUUID } from 'node:crypto';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import Kafka from 'node-rdkafka';
import { loadSchema } from '../../schemas/catalog';
import type { MlPrediction } from '../../topologies/analytics';
import { kafkaClientConfig, loadConfigOrExit, registryClientOptions } from '../../src/config';
import type { AnalyticsEvent } from '../../topologies/event';
import { EventGenerator } from '../../src/generator/events';
import { catchUp, eventsPerEntitySecond } from '../../src/generator/run';
import { AvroSerdes } from '../../src/serdes';
import { connectProducer } from './harness/produce';

async function main(): Promise<void> {
  const [eventsTopic, predictionsTopic, rateText, secondsText] = process.argv.slice(2);
  const rate = Number(rateText);
  const seconds = Number(secondsText);
  const config = loadConfigOrExit();
  const avro = new AvroSerdes(new SchemaRegistry(registryClientOptions(config.schemaRegistry)));
  const eventSerde = avro.serde<AnalyticsEvent>({ schema: loadSchema('analytics-event.avsc') });
  await eventSerde.prepare(eventsTopic!);
  const predictionSerde = avro.serde<MlPrediction>({ schema: loadSchema('ml-prediction.avsc') });
  const client = kafkaClientConfig(config.kafka);
  const producer = await connectProducer(client);
  // consume(n) waits for each message until n arrived: a short timeout and partition-end events make it return what has arrived, so the read time is when a prediction became visible.
  const consumer = new Kafka.KafkaConsumer(
    {
      ...client,
      'group.id': `latency-${randomUUID()}`,
      'isolation.level': 'read_committed',
      'enable.auto.commit': false,
      'fetch.wait.max.ms': 5,
      'enable.partition.eof': true,
    } as Kafka.ConsumerGlobalConfig,
    { 'auto.offset.reset': 'latest' },
  );
  await new Promise<void>((ok, fail) => consumer.connect({ timeout: 15_000 }, (err) => (err ? fail(err) : ok())));
  consumer.setDefaultConsumeTimeout(5);
  const meta = await new Promise<Kafka.Metadata>((ok, fail) =>
    consumer.getMetadata({ topic: predictionsTopic!, timeout: 10_000 }, (err, m) => (err ? fail(err) : ok(m))),
  );
  const partitions = meta.topics.find((t) => t.name === predictionsTopic)!.partitions.map((p) => p.id);
  const ends = await Promise.all(
    partitions.map(
      (partition) =>
        new Promise<number>((ok, fail) =>
          consumer.queryWatermarkOffsets(predictionsTopic!, partition, 10_000, (err, w) => (err ? fail(err) : ok(w.highOffset))),
        ),
    ),
  );
  consumer.assign(partitions.map((partition, i) => ({ topic: predictionsTopic!, partition, offset: ends[i]! })));

  const generator = new EventGenerator({ seed: 5, entities: Math.max(1, Math.round(rate / eventsPerEntitySecond())), startMs: Date.now() - 900_000 });
  const started = catchUp(generator); // a quarter of an hour simulated first: sessions and bursts are under way
  const latencies: number[] = [];
  let reading = true;
  const reader = (async () => {
    while (reading) {
      const batch = await new Promise<Kafka.Message[]>((ok, fail) => consumer.consume(500, (err, m) => (err ? fail(err) : ok(m))));
      const at = Date.now();
      if (batch.length === 0) continue;
      await predictionSerde.prepareBatch(
        predictionsTopic!,
        batch.map((m) => m.value ?? null),
      );
      for (const m of batch) {
        const p = predictionSerde.deserialize(predictionsTopic!, m.value ?? null);
        if (p && p.event_time >= started) latencies.push(at - p.event_time);
      }
    }
  })();
  let last = started;
  let produced = 0;
  while (last < started + seconds * 1000) {
    await new Promise((r) => setTimeout(r, 5));
    const to = Math.min(Date.now(), started + seconds * 1000);
    for (const { anomalous: _label, ...e } of generator.eventsBetween(last, to)) {
      try {
        producer.produce(eventsTopic!, null, eventSerde.serialize(eventsTopic!, e), Buffer.from(e.entity_id), e.event_time);
        produced++;
      } catch {
        // the local queue is full: this event is not sent (the latency of the others is still measured)
      }
    }
    last = to;
  }
  await new Promise((r) => setTimeout(r, 3_000)); // the last commits
  reading = false;
  await reader;
  await new Promise<void>((r) => consumer.disconnect(() => r()));
  await new Promise<void>((r) => producer.disconnect(() => r()));
  // A large line through a pipe is written asynchronously: exiting before it drains truncates it.
  await new Promise<void>((r) => process.stdout.write(`${JSON.stringify({ produced, latencies })}\n`, () => r()));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`pipeline load failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
