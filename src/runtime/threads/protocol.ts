/**
 * Messages between an instance's main process and its stream threads' processes, over
 * the IPC channel fork() opens. Anything else on the channel (another library's
 * messages, or a malformed one) is ignored: each side checks the whole shape before it acts.
 */
import { type IpcMessage, ipcGuard } from '../../net/ipc-guard';
import type { MetricsJson } from './metrics';

/** Main process → thread. */
export type ToThread = { sa: 'close' } | { sa: 'metrics'; id: number };

/** Thread → main process. `alive` comes every couple of seconds, so a thread that stops answering is seen. */
export type FromThread =
  | { sa: 'started'; queryUrl: string | undefined }
  | { sa: 'alive' }
  | { sa: 'state'; state: 'REBALANCING' | 'RUNNING' }
  | { sa: 'tasks'; tasks: string[] }
  | { sa: 'restoring'; restoring: boolean; waitingFor: string | undefined }
  | { sa: 'mismatch'; topics: string[] }
  | { sa: 'failed'; code: string | undefined; message: string }
  | { sa: 'metrics'; id: number; metrics: MetricsJson };

type Message = IpcMessage;

const strings = (v: unknown, max: number): boolean => Array.isArray(v) && v.length <= max && v.every((x) => typeof x === 'string' && x.length <= 300);
const optionalString = (v: unknown): boolean => v === undefined || (typeof v === 'string' && v.length <= 10_000);

const FROM: Record<FromThread['sa'], (m: Message) => boolean> = {
  started: (m) => optionalString(m.queryUrl),
  alive: () => true,
  state: (m) => m.state === 'REBALANCING' || m.state === 'RUNNING',
  tasks: (m) => strings(m.tasks, 1_000_000),
  restoring: (m) => typeof m.restoring === 'boolean' && optionalString(m.waitingFor),
  mismatch: (m) => strings(m.topics, 100_000),
  failed: (m) => optionalString(m.code) && typeof m.message === 'string',
  metrics: (m) => Number.isSafeInteger(m.id) && Array.isArray(m.metrics),
};

const TO: Record<ToThread['sa'], (m: Message) => boolean> = {
  close: () => true,
  metrics: (m) => Number.isSafeInteger(m.id),
};

export const isToThread = ipcGuard<ToThread>(TO);

export const isFromThread = ipcGuard<FromThread>(FROM);
