/**
 * The processor graph a StreamsBuilder assembles (internal). Nodes are data plus a
 * processor supplier, so each task instantiates its own processors from the same graph
 * (see task-graph.ts); nothing here holds per-task state.
 */
import { StreamingError } from '../../errors';
import type { Deserializer, Serializer } from '../../serdes';
import type { StoreSpec } from '../../../state';
import type { ProcessorSupplier } from '../processor-api/processor';

// biome-ignore-start lint/suspicious/noExplicitAny: the graph is untyped inside; the DSL types the edges.
export type AnyDeserializer = Deserializer<any>;
export type AnySerializer = Serializer<any>;
export type AnySupplier = ProcessorSupplier<any, any, any, any>;
// biome-ignore-end lint/suspicious/noExplicitAny: (end of the untyped graph types)

/**
 * Internal topics (repartition) are named without the application id while the topology
 * is built; `resolve(applicationId)` prefixes them (`<applicationId>-<name>-repartition`).
 */
export type NodeSpec =
  | { kind: 'source'; name: string; topics: readonly string[]; keySerde: AnyDeserializer; valueSerde: AnyDeserializer; children: string[]; internal?: boolean }
  | { kind: 'processor'; name: string; operator: string; supplier: AnySupplier; children: string[]; stores?: string[]; byNameOnly?: boolean }
  | {
      kind: 'sink';
      name: string;
      topic: string;
      keySerde: AnySerializer;
      valueSerde: AnySerializer;
      children: string[];
      internal?: { partitions?: number };
      byNameOnly?: boolean;
    };

export interface InternalTopic {
  name: string;
  /** Explicit partition count, else that of the writing sub-topology's input topics. */
  partitions?: number | undefined;
  upstreamTopics: string[];
}

export interface ChangelogTopic {
  name: string;
  store: string;
  /** Compacted; a window store's also deletes records a day past the store's retention. */
  config: Record<string, string>;
  /** The sub-topology's input topics: the changelog gets as many partitions as they have. */
  upstreamTopics: string[];
}

export class TopologyGraph {
  readonly nodes = new Map<string, NodeSpec>();
  readonly stores = new Map<string, StoreSpec>();
  /** Set on a resolved copy (see resolve()). */
  applicationId: string | undefined;
  private counter = 0;

  /** Kafka Streams' generated names: KSTREAM-FILTER-0000000003. */
  newName(prefix: string): string {
    return `${prefix}-${String(this.counter++).padStart(10, '0')}`;
  }

  add(spec: NodeSpec, parents: readonly string[]): void {
    if (this.nodes.has(spec.name)) throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', `a processor named "${spec.name}" already exists in this topology`);
    for (const p of parents) {
      const parent = this.nodes.get(p);
      if (!parent) throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', `unknown parent processor "${p}"`);
      if (parent.kind === 'sink') throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', `sink "${p}" cannot have children`);
    }
    this.nodes.set(spec.name, spec);
    for (const p of parents) this.nodes.get(p)!.children.push(spec.name);
  }

  addStore(spec: StoreSpec): void {
    if (this.stores.has(spec.name)) throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', `a state store named "${spec.name}" already exists in this topology`);
    this.stores.set(spec.name, spec);
  }

  /** Connects a processor to stores it reads and writes; processors sharing a store share a sub-topology. */
  connectStores(processor: string, stores: readonly string[]): void {
    const node = this.nodes.get(processor);
    if (node?.kind !== 'processor') throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', `"${processor}" is not a processor`);
    for (const store of stores) {
      if (!this.stores.has(store))
        throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', `processor "${processor}" uses an unknown state store "${store}"`, {
          hint: 'add it first with StreamsBuilder.addStateStore',
        });
      node.stores = [...new Set([...(node.stores ?? []), store])];
    }
  }

  /** `<applicationId>-<store>-changelog` (on an unresolved graph, without the prefix). */
  changelogTopic(store: string): string {
    return this.applicationId === undefined ? `${store}-changelog` : `${this.applicationId}-${store}-changelog`;
  }

  /** The logged stores of each sub-topology with their changelog topics. */
  changelogTopics(): ChangelogTopic[] {
    return this.subtopologies().flatMap((nodes) => {
      const inputs = nodes.flatMap((n) => (n.kind === 'source' ? [...n.topics] : []));
      return this.storesOf(nodes)
        .filter((s) => s.logging)
        .map(
          (s): ChangelogTopic => ({
            name: this.changelogTopic(s.name),
            store: s.name,
            upstreamTopics: inputs,
            config: s.window
              ? { 'cleanup.policy': 'compact,delete', 'retention.ms': String(s.window.retentionMs + 86_400_000) }
              : { 'cleanup.policy': 'compact' },
          }),
        );
    });
  }

  /** The store specs the processors of a sub-topology use. */
  storesOf(nodes: readonly NodeSpec[]): StoreSpec[] {
    const names = new Set(nodes.flatMap((n) => (n.kind === 'processor' ? (n.stores ?? []) : [])));
    return [...names].map((n) => this.stores.get(n)!);
  }

  sources(): Extract<NodeSpec, { kind: 'source' }>[] {
    return [...this.nodes.values()].filter((n): n is Extract<NodeSpec, { kind: 'source' }> => n.kind === 'source');
  }

  /** A copy with internal topic names prefixed by the application id: what tasks run. */
  resolve(applicationId: string): TopologyGraph {
    const copy = new TopologyGraph();
    copy.applicationId = applicationId;
    for (const [name, spec] of this.stores) copy.stores.set(name, spec);
    const full = (topic: string): string => `${applicationId}-${topic}`;
    for (const n of this.nodes.values()) {
      const children = [...n.children];
      if (n.kind === 'source' && n.internal) copy.nodes.set(n.name, { ...n, children, topics: n.topics.map(full) });
      else if (n.kind === 'sink' && n.internal) copy.nodes.set(n.name, { ...n, children, topic: full(n.topic) });
      else if (n.kind === 'processor' && n.stores) copy.nodes.set(n.name, { ...n, children, stores: [...n.stores] });
      else copy.nodes.set(n.name, { ...n, children });
    }
    return copy;
  }

  /** The internal topics a (resolved) graph writes, with what decides their partition count. */
  internalTopics(): InternalTopic[] {
    return this.subtopologies().flatMap((nodes) => {
      const inputs = nodes.flatMap((n) => (n.kind === 'source' ? [...n.topics] : []));
      return nodes.flatMap((n) => (n.kind === 'sink' && n.internal ? [{ name: n.topic, partitions: n.internal.partitions, upstreamTopics: inputs }] : []));
    });
  }

  /** Runs every sink serde's asynchronous set-up (schema registration) once, and the stores' for their changelogs. */
  async prepareSinks(): Promise<void> {
    for (const node of this.nodes.values()) {
      if (node.kind !== 'sink') continue;
      await node.keySerde.prepare?.(node.topic);
      await node.valueSerde.prepare?.(node.topic);
    }
    for (const store of this.stores.values()) {
      await store.keySerde.prepare?.(this.changelogTopic(store.name));
      await store.valueSerde.prepare?.(this.changelogTopic(store.name));
    }
  }

  sourceTopics(): string[] {
    return this.sources().flatMap((s) => [...s.topics]);
  }

  /** Connected components, in order of their first source: Kafka Streams' sub-topologies. */
  subtopologies(): NodeSpec[][] {
    // Parents, and processors sharing a store, are neighbours of a node.
    const parentOf = new Map<string, string[]>();
    for (const n of this.nodes.values()) for (const c of n.children) parentOf.set(c, [...(parentOf.get(c) ?? []), n.name]);
    const users = new Map<string, string[]>();
    for (const n of this.nodes.values()) if (n.kind === 'processor') for (const st of n.stores ?? []) users.set(st, [...(users.get(st) ?? []), n.name]);
    for (const names of users.values()) for (const a of names) parentOf.set(a, [...(parentOf.get(a) ?? []), ...names.filter((b) => b !== a)]);
    const seen = new Set<string>();
    const groups: NodeSpec[][] = [];
    for (const start of this.nodes.values()) {
      if (seen.has(start.name)) continue;
      const group: NodeSpec[] = [];
      const stack = [start.name];
      while (stack.length > 0) {
        const name = stack.pop()!;
        if (seen.has(name)) continue;
        seen.add(name);
        const node = this.nodes.get(name)!;
        group.push(node);
        stack.push(...node.children, ...(parentOf.get(name) ?? []));
      }
      groups.push(group.sort((a, b) => order(this, a) - order(this, b)));
    }
    return groups;
  }
}

function order(graph: TopologyGraph, node: NodeSpec): number {
  return [...graph.nodes.keys()].indexOf(node.name);
}
