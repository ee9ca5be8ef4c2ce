import { strict as assert } from 'node:assert';
import { keptTopic } from '../../../ops/kafka/prune';
import { loadConfig } from '../../../src/config';

describe('which topics the local stack clean-up keeps (ops/kafka/prune.ts)', () => {
  it("keeps internal topics, the seed's, the shadow model's and the processor's own; nothing else", () => {
    const config = loadConfig({ STREAMING_REALTIME_ML__SHADOW_TOPIC: 'shadow-predictions', STREAMING_PROCESSOR__APPLICATION_ID: 'my-app' });
    for (const kept of [
      '__consumer_offsets',
      '_schemas',
      'analytics-events',
      'ml-predictions',
      'streaming-alerts',
      'streaming-metrics',
      'shadow-predictions',
      'my-app-counts-changelog',
      'my-app-dlq',
    ])
      assert.equal(keptTopic(config, kept), true, kept);
    for (const gone of ['bench-1a2b3c4d-in', 'pt-in-9e761afd', 'my-app', 'my-apps-x', 'analytics-events-2', 'streaming-analytics-dlq'])
      assert.equal(keptTopic(config, gone), false, gone);
  });
});
