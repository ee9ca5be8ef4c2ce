/**
 * The verifier's input driver (after Apache Kafka's EosTestDriver): an idempotent
 * producer writes keyed integers — key `k<random>`, value = sequence number — at a
 * steady rate, so the input is known exactly and any loss or duplicate shows.
 */
import { type ClientSettings, rdkafkaClients } from '../kafka';

export interface DriverOptions {
  client: ClientSettings;
  topic: string;
  records: number;
  keys: number;
  /** Records per second; 0 = as fast as possible. */
  rate: number;
  onProgress?: (sent: number) => void;
}

export async function runDriver(o: DriverOptions): Promise<number> {
  const settings = { ...o.client, 'enable.idempotence': true, acks: 'all', 'linger.ms': 5, 'delivery.report.only.error': true };
  const producer = await rdkafkaClients.producer(settings, { javaPartitioner: true, pollIntervalMs: 50, connectTimeoutMs: 15_000 });
  const started = Date.now();
  try {
    for (let i = 0; i < o.records; i++) {
      producer.produce(o.topic, null, Buffer.from(String(i)), Buffer.from(`k${Math.floor(Math.random() * o.keys)}`), Date.now());
      if ((i + 1) % 1000 === 0) {
        o.onProgress?.(i + 1);
        const due = o.rate > 0 ? started + ((i + 1) / o.rate) * 1000 : 0;
        await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
      }
    }
    await producer.flush(60_000);
  } finally {
    await producer.disconnect(5_000);
  }
  return o.records;
}
