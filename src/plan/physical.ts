/**
 * Logical graph -> physical plan. A stage is the fused chain of operators that one task runs
 * for one input partition: source stages start at a source (one task per topic partition),
 * keyed stages start at a keyBy (one task per key partition, fed by an exchange). Stateless
 * nodes after a union of different stages are instantiated in each of them; stateful nodes
 * always sit right after their keyBy, so each lives in exactly one stage. A keyBy nothing reads
 * is left out: a two-input operator re-keys its inputs itself, so the keyBy a user wrote before
 * it (`a.keyBy(f).intervalJoin(...)`) must not become a stage that records are sent to and dropped.
 */
import { inputsOf, type LogicalGraph, type LogicalNode, type NodeId } from '../api/index.ts';
import { SluiceError } from '../core/index.ts';

/** Where an operator's output goes. */
export interface PhysicalOp {
  node: LogicalNode;
  /** Indexes (in the stage's `ops`) of the operators reading its main output. */
  next: number[];
  /** Named side outputs: tag -> operator indexes reading it. */
  side: Map<string, number[]>;
  /** Stages fed through an exchange (a keyBy consuming this operator). */
  exchanges: number[];
}

export interface Stage {
  id: number;
  /** The source or keyBy node the stage starts at (ops[0]). */
  entry: LogicalNode & { kind: 'source' | 'keyBy' };
  /** Operators in topological order; ops[0] is the entry. */
  ops: PhysicalOp[];
  /** Stages whose output reaches this one through an exchange. */
  upstream: number[];
}

export interface PhysicalPlan {
  /** Stages in topological order: every exchange goes from a lower id to a higher one. */
  stages: Stage[];
  /** Every topic a sink or late-data side output writes. */
  sinkTopics: string[];
  /** The sink topics tables write their changelogs to (`table.to()`), created compacted. */
  changelogTopics?: string[];
}

/** The topic a window, join or pattern writes its late records to, if any. */
export function lateTopicOf(node: LogicalNode): string | undefined {
  if (node.kind === 'pattern') return node.lateSideOutput;
  return node.kind === 'window' || node.kind === 'windowJoin' || node.kind === 'intervalJoin' ? node.lateness.lateSideOutput : undefined;
}

/** The tag under which a window operator emits late records, and the late-data sink's node. */
export function lateSinkNode(window: LogicalNode, topic: string): LogicalNode {
  return { kind: 'sink', id: -1 - window.id, name: `${window.name}.late`, input: window.id, topic };
}

export function physicalPlan(graph: LogicalGraph): PhysicalPlan {
  const nodes = graph.nodes;
  if (!nodes.some((n) => n.kind === 'sink' || n.kind === 'connectorSink' || n.kind === 'print' || lateTopicOf(n) !== undefined)) {
    throw new SluiceError('INVALID_PLAN', 'the pipeline writes nowhere; end each stream with .to(topic) or .print()');
  }
  const live = liveNodes(graph);
  const consumers = new Map<NodeId, LogicalNode[]>();
  for (const node of nodes) {
    if (!live.has(node.id)) continue;
    for (const input of inputsOf(node)) consumers.set(input, [...(consumers.get(input) ?? []), node]);
  }
  const entries = nodes.filter((n) => live.has(n.id)).filter((n): n is LogicalNode & { kind: 'source' | 'keyBy' } => n.kind === 'source' || n.kind === 'keyBy');
  const stageOfEntry = new Map<NodeId, number>(entries.map((e, i) => [e.id, i]));
  const stages: Stage[] = entries.map((entry, id) => ({ id, entry, ops: [], upstream: [] }));
  const sinkTopics = new Set<string>();
  const changelogTopics = new Set<string>();

  for (const stage of stages) {
    // Every node reachable from the entry without crossing a keyBy, in creation (topological) order.
    const members = new Set<NodeId>([stage.entry.id]);
    for (const node of nodes) {
      if (node.id <= stage.entry.id || node.kind === 'keyBy' || node.kind === 'source' || !live.has(node.id)) continue;
      if (inputsOf(node).some((i) => members.has(i))) members.add(node.id);
    }
    const ordered = [...members].sort((a, b) => a - b).map((id) => nodes[id]);
    const index = new Map<NodeId, number>(ordered.map((n, i) => [n.id, i]));
    stage.ops = ordered.map((node) => ({ node, next: [], side: new Map(), exchanges: [] }));
    for (const op of [...stage.ops]) {
      for (const consumer of consumers.get(op.node.id) ?? []) {
        if (consumer.kind === 'keyBy') {
          const target = stageOfEntry.get(consumer.id)!;
          op.exchanges.push(target);
          if (!stages[target].upstream.includes(stage.id)) stages[target].upstream.push(stage.id);
        } else if (consumer.kind === 'side') {
          const list = op.side.get(consumer.tag) ?? [];
          list.push(index.get(consumer.id)!);
          op.side.set(consumer.tag, list);
        } else {
          op.next.push(index.get(consumer.id)!);
        }
      }
      const node = op.node;
      if (node.kind === 'sink') sinkTopics.add(node.topic);
      if (node.kind === 'sink' && node.changelog) changelogTopics.add(node.topic);
      const topic = lateTopicOf(node);
      if (topic !== undefined) {
        sinkTopics.add(topic);
        stage.ops.push({ node: lateSinkNode(node, topic), next: [], side: new Map(), exchanges: [] });
        op.side.set(topic, [stage.ops.length - 1]);
      }
    }
  }
  return { stages, sinkTopics: [...sinkTopics].sort(), ...(changelogTopics.size > 0 ? { changelogTopics: [...changelogTopics].sort() } : {}) };
}

/**
 * Every node except a keyBy nothing reads. Only those are dropped: any other node may act
 * through its user function (a process that only logs), so it runs even if nothing reads it.
 */
function liveNodes(graph: LogicalGraph): Set<NodeId> {
  const read = new Set<NodeId>(graph.nodes.flatMap((node) => inputsOf(node)));
  return new Set(graph.nodes.filter((node) => node.kind !== 'keyBy' || read.has(node.id)).map((node) => node.id));
}
