/**
 * split()/branch(): Kafka Streams' BranchedKStream. Branches are tried in the order they
 * were added; a record goes to the first whose predicate holds, else to the default
 * branch (if any), else nowhere. The result maps branch names to streams: the split's
 * name prefix plus the branch's name, or its 1-based position ("0" for the default).
 */
import { StreamingError } from '../../errors';
import type { TopologyGraph } from '../internals/graph';
import { KStream } from './kstream';
import { BranchProcessor, PassThroughProcessor } from '../processors/operators';

export interface Branched {
  name?: string;
}

interface Branch<K, V> {
  predicate: (key: K, value: V) => boolean;
  name: string;
}

export class BranchedKStream<K, V> {
  private readonly branches: Branch<K, V>[] = [];

  /** @internal */
  constructor(
    private readonly graph: TopologyGraph,
    private readonly parent: string,
    private readonly prefix: string,
    private readonly keyChanged = false,
  ) {}

  branch(predicate: (key: K, value: V) => boolean, branched: Branched = {}): this {
    this.branches.push({ predicate, name: branched.name ?? String(this.branches.length + 1) });
    return this;
  }

  defaultBranch(branched: Branched = {}): Map<string, KStream<K, V>> {
    return this.build(branched.name ?? '0');
  }

  noDefaultBranch(): Map<string, KStream<K, V>> {
    return this.build(undefined);
  }

  private build(defaultName: string | undefined): Map<string, KStream<K, V>> {
    const names = [...this.branches.map((b) => b.name), ...(defaultName === undefined ? [] : [defaultName])];
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    if (duplicate !== undefined) throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', `split: two branches are named "${duplicate}"`);
    const childOf = (name: string): string => `${this.prefix}${name}`;
    const routes = this.branches.map((b) => ({ predicate: b.predicate, child: childOf(b.name) }));
    const defaultChild = defaultName === undefined ? undefined : childOf(defaultName);
    this.graph.add({ kind: 'processor', name: this.prefix, operator: 'split', supplier: () => new BranchProcessor<K, V>(routes, defaultChild), children: [] }, [
      this.parent,
    ]);
    const out = new Map<string, KStream<K, V>>();
    for (const name of names) {
      this.graph.add({ kind: 'processor', name: childOf(name), operator: 'branch', supplier: () => new PassThroughProcessor<K, V>(), children: [] }, [
        this.prefix,
      ]);
      out.set(childOf(name), new KStream<K, V>(this.graph, childOf(name), this.keyChanged));
    }
    return out;
  }
}
