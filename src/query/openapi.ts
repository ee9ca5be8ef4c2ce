/** The query API's OpenAPI 3.1 document, served at /openapi.json. */
const error = { $ref: '#/components/schemas/Error' };
const DESCRIPTIONS: Record<number, string> = {
  400: 'bad parameter',
  401: 'no valid bearer token',
  403: 'the token does not grant this store',
  404: 'unknown store, or no value for the key',
  409: 'the key has values in more than one partition (written by different partitioners)',
  503: 'restoring, rebalancing or the owner is unreachable (Retry-After)',
};
const errors = (...codes: number[]): Record<string, unknown> =>
  Object.fromEntries([...codes, 401, 403].map((c) => [String(c), { description: DESCRIPTIONS[c], content: { 'application/json': { schema: error } } }]));
const storeParam = { name: 'store', in: 'path', required: true, schema: { type: 'string' } };
const keyParam = {
  name: 'key',
  in: 'path',
  required: true,
  description: 'the key as text: a String key as is, Long/Double as a number, Json as JSON, Bytes as base64url',
  schema: { type: 'string' },
};
const query = (name: string, description: string) => ({ name, in: 'query', required: false, description, schema: { type: 'string' } });

export const OPENAPI = {
  openapi: '3.1.0',
  info: { title: 'streaming-analytics interactive queries', version: '1' },
  paths: {
    '/stores': {
      get: {
        summary: 'The stores the token may read',
        responses: { 200: { description: 'name, kind, serdes, changelog and partitioner of every granted store' }, ...errors() },
      },
    },
    '/metadata/{store}/{key}': {
      get: {
        summary: 'Partition, task and owning instance of a key',
        parameters: [storeParam, keyParam],
        responses: { 200: { description: 'owner' }, ...errors(400, 404) },
      },
    },
    '/stores/{store}/keys/{key}': {
      get: {
        summary: "A key's value (answered by the owning instance, forwarded if needed)",
        parameters: [storeParam, keyParam],
        responses: { 200: { description: '{ store, key, value, partition }' }, ...errors(400, 404, 409, 503) },
      },
    },
    '/stores/{store}/keys/{key}/windows': {
      get: {
        summary: "A key's windows with from ≤ start ≤ to (window stores)",
        parameters: [storeParam, keyParam, query('from', 'epoch ms, default 0'), query('to', 'epoch ms, default no limit')],
        responses: { 200: { description: '{ windows: [{ start, end, value }] }' }, ...errors(400, 404, 409, 503) },
      },
    },
    '/stores/{store}/entries': {
      get: {
        summary: 'A range or prefix scan over the partitions this instance runs, in key-byte order',
        parameters: [
          storeParam,
          query('from', 'first key (inclusive)'),
          query('to', 'end key (exclusive)'),
          query('prefix', 'keys starting with'),
          query('limit', '1-10000, default 100'),
          query('cursor', 'from the previous page'),
          query('raw', "1: also the keys' bytes (base64url), as `raw` beside `entries` (how an instance merges its stream threads' pages)"),
        ],
        responses: { 200: { description: '{ entries, raw (with raw=1), cursor (null on the last page), partitions, complete }' }, ...errors(400, 404, 503) },
      },
    },
  },
  security: [{ bearer: [] }],
  components: {
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'A JWT whose "stores" claim lists the stores it may read, or "*" (not needed on an open, loopback-only API)',
      },
    },
    schemas: {
      Error: {
        type: 'object',
        properties: {
          error: {
            type: 'object',
            properties: { code: { type: 'string' }, message: { type: 'string' }, hint: { type: 'string' }, retriable: { type: 'boolean' } },
            required: ['code', 'message', 'retriable'],
          },
        },
      },
    },
  },
};
