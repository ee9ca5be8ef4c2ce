/**
 * A built topology (Kafka Streams' `Topology`): what `StreamsBuilder.build()` returns and
 * what the runtime and the TopologyTestDriver run. `describe()` shows its graph.
 */
import type { NodeSpec, TopologyGraph } from '../internals/graph';

export interface NodeDescription {
  name: string;
  kind: 'source' | 'processor' | 'sink';
  /** For processors: the DSL operator (filter, mapValues, …). */
  operator?: string;
  topics?: string[];
  /** For processors: the state stores they use. */
  stores?: string[];
  successors: string[];
  predecessors: string[];
}

export interface TopologyDescription {
  subtopologies: { id: number; nodes: NodeDescription[] }[];
  sourceTopics: string[];
  sinkTopics: string[];
  /** Repartition and changelog topics, without the `<applicationId>-` prefix they get at run time. */
  internalTopics: string[];
  stores: string[];
  /** Kafka Streams-style text, one node per line. */
  toString(): string;
}

const graphs = new WeakMap<Topology, TopologyGraph>();

/** Internal: the runtime and the test driver read the graph; applications cannot. */
export function graphOf(topology: Topology): TopologyGraph {
  return graphs.get(topology)!;
}

export class Topology {
  constructor(graph: TopologyGraph) {
    graphs.set(this, graph);
  }

  describe(): TopologyDescription {
    const graph = graphOf(this);
    const predecessors = new Map<string, string[]>();
    for (const n of graph.nodes.values()) for (const c of n.children) predecessors.set(c, [...(predecessors.get(c) ?? []), n.name]);
    const subtopologies = graph.subtopologies().map((nodes, id) => ({ id, nodes: nodes.map((n) => describeNode(n, predecessors.get(n.name) ?? [])) }));
    const sinkTopics = [...new Set([...graph.nodes.values()].flatMap((n) => (n.kind === 'sink' ? [n.topic] : [])))];
    return {
      subtopologies,
      sourceTopics: graph.sourceTopics(),
      sinkTopics,
      internalTopics: [...graph.internalTopics().map((t) => t.name), ...graph.changelogTopics().map((t) => t.name)],
      stores: [...graph.stores.keys()],
      toString: () => describeText(subtopologies),
    };
  }
}

function describeNode(n: NodeSpec, predecessors: string[]): NodeDescription {
  const d: NodeDescription = { name: n.name, kind: n.kind, successors: [...n.children], predecessors };
  if (n.kind === 'source') d.topics = [...n.topics];
  if (n.kind === 'sink') d.topics = [n.topic];
  if (n.kind === 'processor') d.operator = n.operator;
  if (n.kind === 'processor' && n.stores?.length) d.stores = [...n.stores];
  return d;
}

function describeText(subtopologies: TopologyDescription['subtopologies']): string {
  const lines = ['Topologies:'];
  for (const s of subtopologies) {
    lines.push(`   Sub-topology: ${s.id}`);
    for (const n of s.nodes) {
      const label =
        n.kind === 'source'
          ? `Source: ${n.name} (topics: [${n.topics!.join(', ')}])`
          : n.kind === 'sink'
            ? `Sink: ${n.name} (topic: ${n.topics![0]})`
            : `Processor: ${n.name} (${n.operator}${n.stores ? `; stores: [${n.stores.join(', ')}]` : ''})`;
      lines.push(`    ${label}`);
      if (n.successors.length > 0) lines.push(`      --> ${n.successors.join(', ')}`);
      if (n.predecessors.length > 0) lines.push(`      <-- ${n.predecessors.join(', ')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
