/**
 * Messages between an instance's main process and its stream threads' processes, over
 * the IPC channel fork() opens. Anything else on the channel (another library's
 * messages) is ignored: each side checks the shape before it acts.
 */
import type { MetricsJson } from './metrics';

/** Main process → thread. */
export type ToThread = { sa: 'close' } | { sa: 'metrics'; id: number };

/** Thread → main process. */
export type FromThread =
  | { sa: 'started'; queryUrl: string | undefined }
  | { sa: 'state'; state: 'REBALANCING' | 'RUNNING' }
  | { sa: 'tasks'; tasks: string[] }
  | { sa: 'restoring'; restoring: boolean; waitingFor: string | undefined }
  | { sa: 'mismatch'; topics: string[] }
  | { sa: 'failed'; code: string | undefined; message: string }
  | { sa: 'metrics'; id: number; metrics: MetricsJson };

const KINDS_TO = new Set(['close', 'metrics']);
const KINDS_FROM = new Set(['started', 'state', 'tasks', 'restoring', 'mismatch', 'failed', 'metrics']);

export function isToThread(m: unknown): m is ToThread {
  return typeof m === 'object' && m !== null && KINDS_TO.has((m as { sa?: unknown }).sa as string);
}

export function isFromThread(m: unknown): m is FromThread {
  return typeof m === 'object' && m !== null && KINDS_FROM.has((m as { sa?: unknown }).sa as string);
}
