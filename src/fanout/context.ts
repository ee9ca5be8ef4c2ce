/** What every connection shares: settings, the hub, metrics, token verification, the Kafka source. */
import type { Config } from '../config';
import type { Connection } from './connection';
import type { Hub } from './hub';
import type { Claims } from '../auth/jwt';
import type { FanoutMetrics } from './metrics';
import type { FanoutSource } from './source';

export interface FanoutContext {
  settings: Config['websocket'];
  /** What /dev/token signs with; undefined: development tokens are off. */
  devTokens?: { secret: string; issuer?: string; audience?: string };
  /** Topic of each channel. */
  topics: { predictions: string; alerts: string; metrics: string };
  hub: Hub;
  metrics: FanoutMetrics;
  source: FanoutSource;
  verify(token: string): Promise<Claims>;
  /** A connection closed. */
  forget(c: Connection): void;
}
