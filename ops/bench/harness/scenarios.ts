/**
 * The scenarios both sides run: the topics each needs, how its input is written, the
 * arguments of its application, and what of its output the correctness check compares.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type Kafka from 'node-rdkafka';
import { loadSchema } from '../../../schemas/catalog';
import { kafkaClientConfig, registryClientOptions, type Config } from '../../../src/config';
import { EventGenerator } from '../../../src/generator/events';
import { eventsPerEntitySecond } from '../../../src/generator/run';
import { AvroSerdes } from '../../../src/serdes';
import type { AnalyticsEvent, EventType } from '../../../topologies/event';
import { SUMMARY_SCHEMA } from '../app/topologies';
import { produceRecords } from './produce';

export type ScenarioName = 'engine' | 'windowed' | 'pipeline';
export const COMPARED: readonly ScenarioName[] = ['engine', 'windowed', 'pipeline'];

export interface Scenario {
  name: ScenarioName;
  /** What one line of the report says the scenario is. */
  title: string;
  /** The input role (the topic the backlog goes to and the live rate is produced into). */
  input: string;
  /** Output roles, the first one measured for latency. */
  outputs: readonly string[];
  /** Registers what the sides need; returns the peer's extra arguments (schema ids, the model). */
  prepare(): Promise<{ node: string[]; peer: string[] }>;
  /** Writes `count` input records; `from` numbers them across calls. */
  write(producer: Kafka.Producer, topic: string, from: number, count: number, rate?: number): Promise<void>;
}

const TYPES: readonly EventType[] = ['PAGE_VIEW', 'CLICK', 'SEARCH', 'ADD_TO_CART', 'PURCHASE'];
const MODEL = resolve(__dirname, '..', '..', '..', 'models', 'anomaly-detector', '1');

/** The engine's input event: cheap to make, all fields the mapping reads. */
export function engineEvent(i: number, now: number): AnalyticsEvent {
  return {
    event_id: randomUUID(),
    event_type: TYPES[i % TYPES.length]!,
    entity_id: `acct-${i % 5000}`,
    user_id: `u-${i % 20000}`,
    session_id: null,
    event_time: now,
    value: i % 5 === 4 ? (i % 97) + 0.99 : null,
    currency: null,
    metrics: { latency_ms: i % 300 },
    properties: { page: '/checkout' },
    source: 'bench',
    schema_version: 1,
  };
}

async function schemaId(registry: SchemaRegistry, subject: string, schema: unknown): Promise<number> {
  const { id } = await registry.register({ type: 'AVRO' as never, schema: JSON.stringify(schema) } as never, { subject });
  return id;
}

/** The broker the peer connects to (the Node side reads the whole connection from the environment). */
const bootstrap = (config: Config): string[] => ['--bootstrap', String(kafkaClientConfig(config.kafka)['bootstrap.servers'])];

export function scenario(name: ScenarioName, config: Config, id: string, keys: number, peerBatch = 1): Scenario {
  const registry = new SchemaRegistry(registryClientOptions(config.schemaRegistry));
  const eventSerde = new AvroSerdes(registry).serde<AnalyticsEvent>({ schema: loadSchema('analytics-event.avsc') });
  const eventsTopic = `bench-${id}-in`;
  if (name === 'engine')
    return {
      name,
      title: 'Avro in → mapValues → Avro out, exactly_once_v2',
      input: 'input',
      outputs: ['output'],
      async prepare() {
        await eventSerde.prepare(eventsTopic);
        return { node: [], peer: [...bootstrap(config), '--output-schema-id', String(await schemaId(registry, `bench-${id}-summary-value`, SUMMARY_SCHEMA))] };
      },
      write: (producer, topic, from, count, rate = 0) =>
        produceRecords(producer, topic, count, rate, (i) => {
          const now = Date.now();
          return { key: `acct-${(from + i) % 5000}`, value: eventSerde.serialize(topic, engineEvent(from + i, now))!, timestamp: now };
        }),
    };
  if (name === 'windowed')
    return {
      name,
      title: `count + sum per key in 1-minute tumbling windows over ${keys.toLocaleString('en-US')} keys (RocksDB), exactly_once_v2`,
      input: 'input',
      outputs: ['counts', 'sums'],
      prepare: async () => ({ node: [], peer: bootstrap(config) }),
      write: (producer, topic, from, count, rate = 0) =>
        produceRecords(producer, topic, count, rate, (i) => ({
          key: `key-${((from + i) * 7_919) % keys}`,
          value: Buffer.from(String((from + i) % 1_000)),
          timestamp: Date.now(),
        })),
    };
  return {
    name,
    title: 'the analytics topology: validation, 1-minute window features (RocksDB), ONNX inference, exactly_once_v2',
    input: 'events',
    outputs: ['predictions', 'alerts'],
    async prepare() {
      await eventSerde.prepare(eventsTopic);
      const prediction = await schemaId(registry, `bench-${id}-predictions-value`, loadSchema('ml-prediction.avsc'));
      const alert = await schemaId(registry, `bench-${id}-alerts-value`, loadSchema('streaming-alert.avsc'));
      // The peer scores one record per call unless told otherwise: its batching can lose held predictions on a crash (kafka-streams-peer/README.md).
      return {
        node: ['--model', MODEL],
        peer: [
          ...bootstrap(config),
          '--model',
          MODEL,
          '--prediction-schema-id',
          String(prediction),
          '--alert-schema-id',
          String(alert),
          '--max-batch',
          String(peerBatch),
        ],
      };
    },
    async write(producer, topic, from, count) {
      // Events of the last 20 minutes from as many entities as that takes; each batch its own seed.
      const now = Date.now();
      const entities = Math.max(100, Math.round(count / (eventsPerEntitySecond() * 20 * 60)));
      const events = new EventGenerator({ seed: 3 + from, entities, startMs: now - 50 * 60_000 }).eventsBetween(now - 20 * 60_000, now).slice(0, count);
      await produceRecords(producer, topic, events.length, 0, (n) => {
        const { anomalous: _label, ...e } = events[n]!;
        return { key: e.entity_id, value: eventSerde.serialize(topic, e)!, timestamp: e.event_time };
      });
    },
  };
}

/** Topic names of one run: the input is shared by every run, the outputs are the run's own. */
export function runTopics(s: Scenario, id: string, run: string): Record<string, string> {
  const topics: Record<string, string> = { [s.input]: `bench-${id}-in` };
  for (const role of [...s.outputs, ...(s.name === 'pipeline' ? ['metrics', 'dead-letter'] : [])]) topics[role] = `bench-${id}-${run}-${role}`;
  return topics;
}
