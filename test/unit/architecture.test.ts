import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { checkImports } from '../../ops/lint/imports';
import { ROOT } from '../support/cli';

describe('the layers (ops/lint/layers.ts)', () => {
  it('every import in the tree points to its own layer or one below, sealed folders are entered through their index, and only the adapter imports node-rdkafka', () => {
    assert.deepEqual(
      checkImports(ROOT).map((o) => `${o.file}:${o.line} → ${o.target}: ${o.why}`),
      [],
    );
  });

  it('the check finds an import that points up (a side-effect import too), a reach past an index, and node-rdkafka (or a file of it) outside the adapter', () => {
    const root = mkdtempSync(join(tmpdir(), 'sa-layers-'));
    const file = (path: string, text: string): void => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    try {
      file('src/errors.ts', "import { x } from './runtime/kafka-streams';\nimport '../ops/setup';\n");
      file('ops/setup.ts', 'export {};\n');
      file(
        'src/runtime/kafka-streams.ts',
        "import type { Store } from '../../state/caching';\nimport Kafka from 'node-rdkafka';\nimport 'node-rdkafka/lib/util';\nexport const x = 1;\n",
      );
      file('state/index.ts', 'export {};\n');
      file('state/caching.ts', 'export type Store = 1;\n');
      assert.deepEqual(
        checkImports(root).map((o) => `${o.file}:${o.line} ${o.why}`),
        [
          'src/errors.ts:1 points up: base → runtime',
          'src/errors.ts:2 points up: base → tools',
          'src/runtime/kafka-streams.ts:1 reaches past state/index.ts',
          'src/runtime/kafka-streams.ts:2 only src/kafka/rdkafka, ops, test may import node-rdkafka',
          'src/runtime/kafka-streams.ts:3 only src/kafka/rdkafka, ops, test may import node-rdkafka',
        ],
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
