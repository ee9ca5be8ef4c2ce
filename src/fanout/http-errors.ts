/**
 * What an HTTP request to the fan-out is told when it fails: fastify's default answer to
 * an error carries the error's own message (a file path, an internal URL). A server-side
 * failure is answered with its status and a stable code only, the cause going to the log;
 * a client error (a malformed URL) keeps fastify's message, which only echoes the request.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../logger';

export function hideInternalErrors(app: FastifyInstance, log: Logger): void {
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status < 500)
      return reply
        .code(status)
        .send({ error: { code: 'SA_ERR_WS_BAD_REQUEST', message: err.message.slice(0, 200), hint: 'check the request line and headers' } });
    log.error({ err, method: req.method, url: req.url.slice(0, 200) }, 'an HTTP request to the fan-out failed');
    return reply.code(500).send({
      error: { code: 'SA_ERR_WS_UNAVAILABLE', message: 'the request failed on the server', hint: "retry; if it keeps failing, the fan-out's log says why" },
    });
  });
}
