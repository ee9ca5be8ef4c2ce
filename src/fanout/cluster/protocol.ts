/**
 * Messages between the fan-out's first process (the primary) and its worker processes,
 * over the IPC channel fork() opens. Anything else on the channel is ignored: each side
 * checks the whole shape before it acts.
 */
import { type IpcMessage, ipcGuard } from '../../net/ipc-guard';
import type { Registry } from 'prom-client';

export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** Primary → worker. `start` carries the configuration (the primary's, as loaded or given). */
export type ToWorker = { sa: 'start'; index: number; config: unknown } | { sa: 'close' } | { sa: 'metrics'; id: number };

/** Worker → primary. `alive` comes every 2 s, so a worker that stops answering is seen. */
export type FromWorker =
  | { sa: 'listening'; url: string }
  | { sa: 'alive'; ready: boolean; connections: number; waitingFor: string | undefined }
  | { sa: 'failed'; code: string | undefined; message: string; hint: string | undefined }
  | { sa: 'metrics'; id: number; metrics: MetricsJson };

type Message = IpcMessage;

const optionalString = (v: unknown): boolean => v === undefined || (typeof v === 'string' && v.length <= 10_000);
const count = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

const FROM: Record<FromWorker['sa'], (m: Message) => boolean> = {
  listening: (m) => typeof m.url === 'string' && m.url.length <= 1_000,
  alive: (m) => typeof m.ready === 'boolean' && count(m.connections) && optionalString(m.waitingFor),
  failed: (m) => optionalString(m.code) && typeof m.message === 'string' && optionalString(m.hint),
  metrics: (m) => count(m.id) && Array.isArray(m.metrics),
};

const TO: Record<ToWorker['sa'], (m: Message) => boolean> = {
  start: (m) => count(m.index) && typeof m.config === 'object' && m.config !== null,
  close: () => true,
  metrics: (m) => count(m.id),
};

export const isToWorker = ipcGuard<ToWorker>(TO);

export const isFromWorker = ipcGuard<FromWorker>(FROM);
