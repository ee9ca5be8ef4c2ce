/**
 * Checks for messages on a fork() IPC channel: `{ sa: <kind>, … }`, each kind with its own
 * check of the whole shape. Anything else (another library's messages, a malformed one)
 * fails the guard and is ignored by the receiver.
 */
export type IpcMessage = Record<string, unknown>;

export function ipcGuard<T extends { sa: string }>(checks: Record<T['sa'], (m: IpcMessage) => boolean>): (m: unknown) => m is T {
  return (m: unknown): m is T => {
    if (typeof m !== 'object' || m === null) return false;
    const kind = (m as IpcMessage).sa;
    return typeof kind === 'string' && Object.hasOwn(checks, kind) && checks[kind as T['sa']](m as IpcMessage);
  };
}
