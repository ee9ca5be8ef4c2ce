/**
 * The live dashboard: static files under src/fanout/dashboard/, served as they are (plain
 * JavaScript modules, no build step). The page gets a token from /dev/token when
 * development tokens are on, or from its URL (`#token=`), and talks the same protocol as
 * any client.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';

const DIR = join(__dirname, 'dashboard');
const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'charts.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

export function dashboardRoutes(app: FastifyInstance): void {
  const cache = new Map<string, Buffer>();
  const file = (name: string): Buffer => {
    let body = cache.get(name);
    if (!body) cache.set(name, (body = readFileSync(join(DIR, name))));
    return body;
  };
  app.get('/', async (_req, reply) => reply.redirect('/dashboard/'));
  app.get<{ Params: { file?: string } }>('/dashboard/:file?', async (req, reply) => {
    const name = req.params.file || 'index.html';
    const type = FILES[name];
    if (!type)
      return reply.code(404).send({ error: { code: 'SA_ERR_WS_BAD_REQUEST', message: `no dashboard file ${JSON.stringify(name)}`, hint: 'open /dashboard/' } });
    return reply.type(type).header('Cache-Control', 'no-cache').send(file(name));
  });
}
