/**
 * Turning a Kafka record of a fan-out topic into a publication, once. A record that does
 * not decode is skipped and counted; it is logged at most once a minute per topic, so a
 * producer writing garbage cannot flood the log.
 */
import type { ConsumedRecord } from '../kafka';
import { TRACEPARENT } from '../tracing';
import type { Logger } from '../logger';
import type { Serde } from '../serdes';
import type { Publication } from './history';
import type { Channel } from './protocol';

/** A fan-out topic: the channel clients subscribe to, and how its records are read. */
export interface SourceTopic {
  channel: Channel;
  topic: string;
  serde: Serde<unknown>;
}

export class Decoder {
  private readonly warnedAt = new Map<string, number>();

  constructor(
    private readonly log: Logger,
    private readonly onUndecodable: (topic: string) => void,
  ) {}

  /** The record as a publication, or undefined when it is empty or does not decode. */
  publication(t: SourceTopic, m: ConsumedRecord, receivedAt: number): Publication | undefined {
    let data: unknown;
    try {
      data = t.serde.deserialize(t.topic, m.value);
    } catch (err) {
      this.onUndecodable(t.topic);
      if (Date.now() - (this.warnedAt.get(t.topic) ?? 0) >= 60_000) {
        this.warnedAt.set(t.topic, Date.now());
        this.log.warn(
          { err, topic: t.topic, partition: m.partition, offset: m.offset },
          'a record could not be decoded and is skipped (counted in fanout_records_undecodable_total; further ones are logged at most once a minute)',
        );
      }
      return undefined;
    }
    if (data === null || data === undefined) return undefined;
    const d = data as { model_name?: unknown; score?: unknown };
    return {
      channel: t.channel,
      topic: m.topic,
      partition: m.partition,
      offset: m.offset,
      key: m.key === null ? null : m.key.toString(),
      timestamp: m.timestamp,
      receivedAt,
      data,
      ...(typeof d.model_name === 'string' ? { model: d.model_name } : {}),
      ...(typeof d.score === 'number' ? { score: d.score } : {}),
      ...traceparentOf(m),
    };
  }
}

/** The record's traceparent header (a short string; a longer value is not one). */
function traceparentOf(m: ConsumedRecord): { traceparent?: string } {
  for (const h of m.headers) {
    if (h.key === TRACEPARENT && h.value.length <= 128) return { traceparent: h.value.toString() };
  }
  return {};
}
