/**
 * Whether a schema-registry failure is the registry not answering (wait and retry) or an
 * answer (a refused schema, bad credentials: retrying will not change it). The registry
 * client reports HTTP answers with their `status`, and a connection that failed as a
 * client error whose message names the socket error.
 */
const NETWORK = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE|socket hang up|timed? ?out|network/i;

export function registryUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e !== null && e !== undefined && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const status = (e as { status?: unknown }).status;
    const message = e instanceof Error ? e.message : String(e);
    if (typeof status === 'number' && status >= 500) return true;
    if (status === 408 || status === 429) return true;
    if (NETWORK.test(message)) return true;
    if (typeof status === 'number') return false;
  }
  return false;
}
