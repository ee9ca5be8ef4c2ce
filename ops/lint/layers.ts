/**
 * The layers of the project, bottom first: the one place they are written down. A file
 * may import files of its own layer or of a layer below; never one above. A folder with
 * an index.ts is entered through it from outside (its other files are its own business).
 * `npm run lint` and `npm test` check the whole tree against this list (imports.ts);
 * docs/architecture.md explains each layer.
 *
 * Paths are folders or files relative to the repository root; the longest match wins.
 */
export interface Layer {
  name: string;
  paths: readonly string[];
}

export const LAYERS: readonly Layer[] = [
  { name: 'base', paths: ['src/errors.ts', 'src/logger.ts', 'src/net', 'src/partitioner', 'src/cli-args.ts', 'src/script.ts'] },
  { name: 'kafka', paths: ['src/kafka'] },
  { name: 'serdes', paths: ['src/serdes', 'src/tracing', 'src/auth'] },
  { name: 'state', paths: ['state'] },
  { name: 'streams', paths: ['src/streams'] },
  { name: 'engine parts', paths: ['src/testing', 'src/query', 'src/inference'] },
  { name: 'runtime', paths: ['src/runtime'] },
  { name: 'library', paths: ['src/index.ts'] },
  { name: 'domain', paths: ['topologies'] },
  { name: 'app configuration', paths: ['src/config'] },
  { name: 'app services', paths: ['schemas', 'src/fanout', 'src/generator', 'src/eos-verify'] },
  { name: 'app', paths: ['src/app'] },
  { name: 'commands', paths: ['src/cli'] },
  { name: 'tools', paths: ['ops'] },
];

/** Folders entered only through their index.ts from outside. */
export const SEALED: readonly string[] = ['state', 'src/serdes', 'src/config', 'src/testing', 'src/tracing', 'src/kafka'];

/** Packages only these paths may import: one adapter owns each client library. */
export const PACKAGE_OWNERS: Readonly<Record<string, readonly string[]>> = {
  'node-rdkafka': ['src/kafka/rdkafka', 'ops', 'test'],
};
