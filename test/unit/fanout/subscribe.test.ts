import { strict as assert } from 'node:assert';
import type { Connection } from '../../../src/fanout/connection';
import type { FanoutContext } from '../../../src/fanout/context';
import { PartitionHistory } from '../../../src/fanout/history';
import { Hub } from '../../../src/fanout/hub';
import { FanoutMetrics } from '../../../src/fanout/metrics';
import { ProtocolError } from '../../../src/fanout/protocol';
import { ReadBackQueue } from '../../../src/fanout/read-back-queue';
import { subscribe } from '../../../src/fanout/subscribe';
import { createLogger } from '../../../src/logger';

/** A resume that needs Kafka (the history starts at offset 10), on a source whose read-back queue takes nobody. */
function setting(readRange: () => Promise<never>): { conn: Connection; ctx: FanoutContext; hub: Hub } {
  const hub = new Hub();
  const source = { partitions: () => [0], history: () => new PartitionHistory(0, 10), readBacks: new ReadBackQueue({ running: 1, waiting: 0, waitingPerOwner: 0 }), readRange };
  const ctx = { topics: { predictions: 'p', alerts: 'a', metrics: 'm' }, source, hub, metrics: new FanoutMetrics() } as unknown as FanoutContext;
  const conn = { subs: new Map(), deliver: () => undefined, log: createLogger({ level: 'silent' }, 'test') } as unknown as Connection;
  return { conn, ctx, hub };
}

const resume = { id: 7, method: 'subscribe', channel: 'predictions', filter: {}, recover: new Map([[0, 3]]) } as const;

describe('fan-out: a resume that cannot read Kafka', () => {
  it('refused at once when the read-back queue is full: SA_ERR_WS_BUSY, temporary, and no subscription left behind', async () => {
    const { conn, ctx, hub } = setting(() => assert.fail('nothing is read'));
    const err = await subscribe(conn, resume, [{ channel: '*' }], ctx).then(() => assert.fail('subscribed'), (e: unknown) => e as ProtocolError);
    assert.ok(err instanceof ProtocolError);
    assert.deepEqual(JSON.parse(err.toReply()).error.temporary, true);
    assert.equal(err.code, 'SA_ERR_WS_BUSY');
    assert.equal(err.id, 7);
    assert.equal(conn.subs.size, 0);
    assert.equal((hub as unknown as { byChannel: Map<string, Set<unknown>> }).byChannel.get('predictions')?.size ?? 0, 0);
    assert.match(await ctx.metrics.registry.metrics(), /websocket_resumes_refused_total\{reason="busy"\} 1/);
  });
});
