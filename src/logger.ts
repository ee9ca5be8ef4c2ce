import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from './config';

export type { Logger };

/**
 * JSON logs on stdout (one object per line), level from STREAMING_LOG__LEVEL. Secrets
 * that may reach a log object through a client config are redacted by path.
 */
export function createLogger(log: Config['log'], name = 'streaming-analytics', destination?: DestinationStream): Logger {
  const options = {
    name,
    level: log.level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['*.password', '*["sasl.password"]', '*["ssl.key.password"]', '*["sasl.oauthbearer.client.secret"]'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
