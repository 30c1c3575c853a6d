/**
 * The logical graph: what the user asked for, as plain data. A closed set of node kinds,
 * each pointing at its inputs by id. User functions are carried as fields; everything else
 * serializes as it is (see `describeGraph`).
 */
import type { Codec } from '../core/index.ts';
import type { EmitSpec, LatenessSpec, WatermarkSpec, WindowSpec } from '../time/index.ts';
import type { Sink, Source } from './connector.ts';
import type { PatternSpec, SkipSpec } from './pattern-spec.ts';

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
  | (Base & {
      kind: 'source';
      topic: string;
      time: SourceTimeSpec;
      codec?: Codec;
      /** A table's source: each value is `{ key, value }` (the record key as a string, the value null for a tombstone), tombstones included. */
      changelog?: true;
      connector?: Source;
    })
  | (Base & { kind: 'filter'; input: NodeId; fn: (value: any) => boolean })
  | (Base & { kind: 'map'; input: NodeId; fn: (value: any) => unknown })
  | (Base & { kind: 'flatMap'; input: NodeId; fn: (value: any) => Iterable<unknown>; /** A table's `filter` or `mapValues` over its changelog. */ table?: 'filter' | 'mapValues' })
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
      /** Written in update or complete mode: the window emits at every change (its one consumer is that sink). */
      output?: 'update' | 'complete';
    })
  | (Base & { kind: 'rolling'; input: NodeId; aggregate: AggregateSpec })
  | (Base & { kind: 'process'; input: NodeId; fn: ProcessSpec })
  | (Base & { kind: 'pattern'; input: NodeId; pattern: PatternSpec; skip: SkipSpec; time: 'event' | 'processing'; lateSideOutput?: string; ttlMs?: number })
  | (Base & { kind: 'union'; inputs: NodeId[] })
  | (Base & { kind: 'side'; input: NodeId; tag: string })
  | (Base & {
      kind: 'sink';
      input: NodeId;
      topic: string;
      codec?: Codec;
      /** A table's changelog (`table.to(topic)`): the row as the value, a delete as a tombstone. */
      changelog?: true;
      /**
       * The output mode, absent for append (a stream, fired windows) and a table's update: window
       * results in `update` mode (kept until their end plus `retainMs`), and `complete` results of
       * a table or windows (`of`).
       */
      mode?: { kind: 'update'; retainMs: number } | { kind: 'complete'; of: 'table' | 'windows' };
    })
  | (Base & TableNode)
  | (Base & { kind: 'print'; input: NodeId; prefix: string })
  | (Base & { kind: 'windowJoin'; input: NodeId; window: WindowSpec; lateness: LatenessSpec; fn: (left: any, right: any) => unknown; sides: JoinSides })
  | (Base & { kind: 'intervalJoin'; input: NodeId; bounds: IntervalBounds; type: JoinType; lateness: LatenessSpec; fn: (left: any, right: any, ctx: any) => unknown; sides: JoinSides })
  /** A sink outside the log (files, Parquet, Postgres, a user's): joins checkpoints through its hooks. */
  | (Base & { kind: 'connectorSink'; input: NodeId; sink: Sink });

/** The names of a join's two input stages (for explain and the dashboard). */
export interface JoinSides {
  left: string;
  right: string;
}

/** An interval join's bounds: `left.ts + lowerMs <= right.ts <= left.ts + upperMs`, each bound inclusive unless marked. */
export interface IntervalBounds {
  lowerMs: number;
  upperMs: number;
  lowerExclusive: boolean;
  upperExclusive: boolean;
}

/** Which unmatched records an interval join emits (with null for the other side): none, the left ones, or both sides'. */
export type JoinType = 'inner' | 'left' | 'outer';

/**
 * The nodes that hold a table (api/table-nodes.ts builds them; each emits a changelog of
 * `{ key, value, previous }`, keyed by the table key):
 * - `table`: the latest row per key of a keyed stream (`toTable()`), or of a table's source
 *   (`changelog`: values are `{ key, value }` pairs); with `versionsMs`, every version within that
 *   retention too (point-in-time lookups);
 * - `stream-table-join`: stream records (side 0) joined with a table's changes (side 1);
 *   versioned (`versionsMs`) joins wait for the watermark and join the version valid at the
 *   record's event time, unversioned ones the latest row;
 * - `table-join`: two tables' changes (sides 0 and 1) joined on the key;
 * - a foreign-key join in three parts (operators/join-foreign-key.ts): `fk-subscribe` turns a
 *   table's changes into subscriptions to `fk(row)`, `fk-lookup` joins them (side 0) with the
 *   other table's changes (side 1) in the task of the foreign key, `fk-result` keeps the joined
 *   table, keyed by the first table's key.
 */
export type TableNode =
  | { kind: 'table'; input: NodeId; changelog: boolean; versionsMs?: number }
  | { kind: 'stream-table-join'; input: NodeId; join: 'inner' | 'left'; fn: (event: any, row: any) => unknown; versionsMs?: number }
  | { kind: 'table-join'; input: NodeId; join: 'inner' | 'left' | 'outer'; fn: (left: any, right: any) => unknown }
  | { kind: 'fk-subscribe'; input: NodeId; fk: (row: any) => unknown }
  | { kind: 'fk-lookup'; input: NodeId; join: 'inner' | 'left'; fn: (left: any, right: any) => unknown }
  | { kind: 'fk-result'; input: NodeId };

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
  return holdsTable(node) || node.kind === 'window' || node.kind === 'process' || node.kind === 'windowJoin' || node.kind === 'intervalJoin' || node.kind === 'pattern' || node.kind === 'stream-table-join' || node.kind === 'fk-subscribe' || node.kind === 'fk-lookup' || (node.kind === 'sink' && node.mode !== undefined);
}

/** Whether a node holds a table that is queryable by its name (`app.table(name)`). */
export function holdsTable(node: LogicalNode): boolean {
  return node.kind === 'table' || node.kind === 'rolling' || node.kind === 'table-join' || node.kind === 'fk-result';
}

/** The graph as JSON-able data: functions become the string `'fn'`, codecs their name. */
export function describeGraph(graph: LogicalGraph): unknown[] {
  return graph.nodes.map((node) => JSON.parse(JSON.stringify(node, (k, v) => (k === 'codec' ? v.name : k === 'sink' || k === 'connector' ? v.describe : typeof v === 'function' ? 'fn' : v))));
}
