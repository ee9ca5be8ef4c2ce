/**
 * `streaming-analytics/fanout`: the WebSocket fan-out tier as a library — start it in
 * your own process with the same settings `streaming-analytics fanout` reads from the
 * STREAMING_* environment (`loadConfig()`), and close it on shutdown. The protocol is in
 * docs/websocket-protocol.md.
 */
export { startFanout, fanoutJwtSettings, type FanoutApp } from '../app/fanout';
