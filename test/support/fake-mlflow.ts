/**
 * A tiny MLflow-compatible HTTP server on 127.0.0.1 (node:http), for answers a real
 * MLflow never gives: it stands for a hostile or intercepted registry. Each test routes
 * requests itself; `modelRoutes` answers like a benign registry serving the committed
 * model under any version number.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { ROOT } from './cli';

export type Route = (req: IncomingMessage & { path: string; query: URLSearchParams }, res: ServerResponse) => void;

export interface FakeMlflow {
  url: string;
  /** Every request's path and query, in order. */
  requests: string[];
  route: Route;
  close(): Promise<void>;
}

export async function fakeMlflow(route: Route): Promise<FakeMlflow> {
  const requests: string[] = [];
  const fake: FakeMlflow = { url: '', requests, route, close: () => Promise.resolve() };
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const url = new URL(req.url ?? '/', 'http://x');
    try {
      fake.route(Object.assign(req, { path: url.pathname, query: url.searchParams }), res);
    } catch (err) {
      res.writeHead(500).end(String(err));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  fake.close = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return fake;
}

export const json = (res: ServerResponse, body: unknown, status = 200): void => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

const MODEL = join(ROOT, 'models/anomaly-detector/1');
export const MODEL_FILES: Record<string, Buffer> = {
  'model.onnx': readFileSync(join(MODEL, 'model.onnx')),
  'metadata.json': readFileSync(join(MODEL, 'metadata.json')),
  MLmodel: Buffer.from('flavors:\n  onnx:\n    data: model.onnx\n'),
};

/**
 * A benign registry: the alias names `champion()`, any version number exists and holds
 * the committed model (under `mlflow-artifacts:/models/<version>`).
 */
export function modelRoutes(champion: () => string): Route {
  return (req, res) => {
    const version = req.query.get('version') ?? champion();
    if (req.path === '/api/2.0/mlflow/registered-models/alias' || req.path === '/api/2.0/mlflow/model-versions/get')
      return json(res, { model_version: { version, status: 'READY' } });
    // The files stay where a real registry keeps them, whatever version string was answered.
    if (req.path === '/api/2.0/mlflow/model-versions/get-download-uri')
      return json(res, { artifact_uri: `mlflow-artifacts:/models/${/^\d+$/.test(version) ? version : '1'}` });
    if (req.path === '/api/2.0/mlflow-artifacts/artifacts')
      return json(res, { files: Object.entries(MODEL_FILES).map(([path, b]) => ({ path, is_dir: false, file_size: String(b.length) })) });
    const file = /^\/api\/2\.0\/mlflow-artifacts\/artifacts\/models\/\d+\/([^/]+)$/.exec(req.path)?.[1];
    if (file && MODEL_FILES[file]) return void res.writeHead(200, { 'content-length': MODEL_FILES[file].length }).end(MODEL_FILES[file]);
    json(res, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: `no ${req.path}` }, 404);
  };
}
