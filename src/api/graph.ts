/**
 * The logical graph: what the user asked for, as plain data. A closed set of node kinds,
 * each pointing at its inputs by id. User functions are carried as fields; everything else
 * serializes as it is (see `describeGraph`).
 */
import type { Codec } from '../core/index.ts';
import type { EmitSpec, LatenessSpec, WatermarkSpec, WindowSpec } from '../time/index.ts';
import type { Sink, Source } from './connector.ts';

export type NodeId = number;

/** How event time and watermarks of a source are computed. */
export interface SourceTimeSpec {
  /** Event time of a value; absent means the log record's timestamp. */
  timestamp?: (value: any) => number;
  /** Per-partition watermarks (bounded out-of-orderness) and the idle timeout. */
  watermark: WatermarkSpec;
}

/**
 * What a keyed aggregation computes, as data: a closed set, plus user-defined `reduce` and
 * `aggregate` (`merge` combines two accumulators; session windows need it). The operators build
 * the aggregate function they run from it.
 */
export type AggregateSpec =
  | { kind: 'count' }
  | { kind: 'sum'; of: (value: any) => number }
  | { kind: 'min'; of: (value: any) => number }
  | { kind: 'max'; of: (value: any) => number }
  | { kind: 'avg'; of: (value: any) => number }
  | { kind: 'collect'; of?: (value: any) => unknown }
  | { kind: 'reduce'; fn: (a: any, b: any) => any }
  | { kind: 'aggregate'; init: () => unknown; add: (key: any, value: any, acc: any) => unknown; merge?: (a: any, b: any) => unknown };

/** How `mapAsync` calls its function (see operators/async-map.ts). */
export interface AsyncSpec {
  concurrency: number;
  timeoutMs: number;
  retries: number;
  retryBackoffMs: number;
  ordered: boolean;
  capacity: number;
}

/** A keyed process function (see `ProcessFunction` in api/process). */
export interface ProcessSpec {
  processElement: (value: any, ctx: any) => void;
  onTimer?: (timestamp: number, ctx: any) => void;
}

interface Base {
  id: NodeId;
  /** Stable name: state, metrics, checkpoints and error messages use it. */
  name: string;
}

export type LogicalNode =
  /** A topic of the log; or, with `connector`, a source outside the log (`topic` then only names it). */
  | (Base & { kind: 'source'; topic: string; time: SourceTimeSpec; codec?: Codec; connector?: Source })
  | (Base & { kind: 'filter'; input: NodeId; fn: (value: any) => boolean })
  | (Base & { kind: 'map'; input: NodeId; fn: (value: any) => unknown })
  | (Base & { kind: 'flatMap'; input: NodeId; fn: (value: any) => Iterable<unknown> })
  | (Base & { kind: 'mapAsync'; input: NodeId; fn: (value: any, context: { signal: AbortSignal; attempt: number }) => unknown; async: AsyncSpec })
  | (Base & { kind: 'keyBy'; input: NodeId; fn: (value: any) => unknown })
  | (Base & {
      kind: 'window';
      input: NodeId;
      window: WindowSpec;
      lateness: LatenessSpec;
      emit: EmitSpec;
      aggregate: AggregateSpec;
      /** The queryable store it serves (`{ queryable: true }` or `.materialize(name)`); a stage name alone sets none. */
      store?: string;
    })
  | (Base & { kind: 'rolling'; input: NodeId; aggregate: AggregateSpec })
  | (Base & { kind: 'process'; input: NodeId; fn: ProcessSpec })
  | (Base & { kind: 'union'; inputs: NodeId[] })
  | (Base & { kind: 'side'; input: NodeId; tag: string })
  | (Base & { kind: 'sink'; input: NodeId; topic: string; codec?: Codec })
  | (Base & { kind: 'print'; input: NodeId; prefix: string })
  /** A sink outside the log (files, Parquet, Postgres, a user's): joins checkpoints through its hooks. */
  | (Base & { kind: 'connectorSink'; input: NodeId; sink: Sink });

export type NodeKind = LogicalNode['kind'];

/** The graph: nodes in creation order (inputs always come first). */
export interface LogicalGraph {
  nodes: LogicalNode[];
}

/** The inputs of a node. */
export function inputsOf(node: LogicalNode): NodeId[] {
  if (node.kind === 'source') return [];
  if (node.kind === 'union') return node.inputs;
  return [node.input];
}

/** Whether a node holds keyed state (it needs a stable name and runs after an exchange). */
export function isStateful(node: LogicalNode): boolean {
  return node.kind === 'window' || node.kind === 'rolling' || node.kind === 'process';
}

/** The graph as JSON-able data: functions become the string `'fn'`, codecs their name. */
export function describeGraph(graph: LogicalGraph): unknown[] {
  return graph.nodes.map((node) => JSON.parse(JSON.stringify(node, (k, v) => (k === 'codec' ? v.name : k === 'sink' || k === 'connector' ? v.describe : typeof v === 'function' ? 'fn' : v))));
}
