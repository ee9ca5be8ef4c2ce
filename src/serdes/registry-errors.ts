/**
 * What a schema-registry failure means. The registry not answering (network, 5xx, 408,
 * 429): wait and retry. Bad credentials (401): every request fails alike, so wait too, but
 * say so. Any other answer (403, 404, 422…) is about what was asked: asking again at once
 * will not change it.
 *
 * The registry client reports HTTP answers with their `status`. A request that got no
 * answer at all (refused connection, TLS failure, timeout) it reports as a 400 whose
 * message is "Error, status 400: <the socket error>" — the form of an error without the
 * registry's JSON `message`. When an answer has a status, only the status decides (and,
 * for a 400, that form): a 403 naming a subject "network-events-value" is still a 403.
 */
const NETWORK =
  /ECONNREFUSED|ECONNRESET|ECONNABORTED|ETIMEDOUT|EHOSTUNREACH|EHOSTDOWN|ENETUNREACH|ENETDOWN|ENOTFOUND|EAI_AGAIN|EPIPE|EPROTO|socket hang up|timed? ?out|network|certificate|\bSSL\b|\bTLS\b/i;
const NO_ANSWER = /Error, status 400\b/;
const MAX_CAUSES = 8;

export function registryUnavailable(err: unknown): boolean {
  const answer = answerIn(err);
  if (answer === undefined) return causes(err).some((e) => NETWORK.test(messageOf(e)));
  const { status, message } = answer;
  if (status >= 500 || status === 408 || status === 429) return true;
  return status === 400 && (NO_ANSWER.test(message) || NETWORK.test(message));
}

/** The HTTP status of the failure, if it has one (ask `registryUnavailable` first: a 400 may be no answer). */
export function registryStatus(err: unknown): number | undefined {
  return answerIn(err)?.status;
}

function answerIn(err: unknown): { status: number; message: string } | undefined {
  for (const e of causes(err)) {
    const status = (e as { status?: unknown }).status;
    if (typeof status === 'number') return { status, message: messageOf(e) };
  }
  return undefined;
}

function causes(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = err; e !== null && e !== undefined && out.length < MAX_CAUSES; e = (e as { cause?: unknown }).cause) out.push(e);
  return out;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
