/**
 * Builds the running operator for each node of a stage. Sources and keyBy entries are
 * identities here: decoding happens in the source partition, keying in the exchange.
 */
import { type AggregateSpec, type LogicalNode, PATTERN_TIMED_OUT } from '../api/index.ts';
import { SluiceError } from '../core/index.ts';
import {
  type AggregateFunction,
  AsyncMapOperator,
  aggregates,
  CompleteSinkOperator,
  ConnectorSinkOperator,
  FilterOperator,
  FlatMapOperator,
  ForeignKeyLookupOperator,
  ForeignKeyResultOperator,
  ForeignKeySubscribeOperator,
  IdentityOperator,
  type IndexedTimer,
  type KeyTimes,
  MapOperator,
  type Operator,
  isOrderedTable,
  PrintOperator,
  ProcessOperator,
  type ProcessOperatorOptions,
  type RecordErrorHandler,
  type RecordSink,
  RollingAggregateOperator,
  StreamTableJoinOperator,
  TableJoinOperator,
  TableOperator,
  TableSinkOperator,
  TopicSinkOperator,
  WindowUpdateSinkOperator,
} from '../operators/index.ts';
import { IntervalJoinOperator } from '../operators/join-interval.ts';
import { WindowJoinOperator } from '../operators/join-window.ts';
import { PatternOperator } from '../operators/pattern.ts';
import { WindowOperator } from '../operators/window.ts';
import type { KeyedTable } from '../state/index.ts';
import type { StoreRegistry } from './stores.ts';

export interface OperatorEnv {
  stores: StoreRegistry;
  sink: RecordSink;
  onError: RecordErrorHandler;
  clock: () => number;
  print: (line: string) => void;
  /** Wakes the job from its wait between rounds (an async call finished). */
  wake?: () => void;
  /** Where a `connectorSink` node's values go (the sink's buffer until the checkpoint). */
  connectorSink?: (name: string) => (value: unknown) => void;
  /** The operator's keyed table of one kind in the state backend (scoped by operator and task). */
  table?: <V>(kind: string) => KeyedTable<V>;
}

export function buildOperator(node: LogicalNode, env: OperatorEnv): Operator {
  switch (node.kind) {
    case 'source':
    case 'keyBy':
    case 'union':
    case 'side':
      return new IdentityOperator(node.name);
    case 'filter':
      return new FilterOperator(node.name, node.fn, env.onError);
    case 'map':
      return new MapOperator(node.name, node.fn, env.onError);
    case 'mapAsync':
      return new AsyncMapOperator(node.name, node.fn, node.async, env.onError, env.wake);
    case 'flatMap':
      return new FlatMapOperator(node.name, node.fn, env.onError);
    case 'window': {
      const op = new WindowOperator({
        name: node.name,
        window: node.window,
        lateness: node.lateness,
        // Written in update or complete mode: the window emits at every record (then final, as usual).
        emit: node.output !== undefined && node.emit.kind === 'final' ? { kind: 'early-count', every: 1 } : node.emit,
        aggregate: aggregateFunction(node.aggregate),
        onError: env.onError,
        clock: env.clock,
        ...windowTables(env.table, node.window.kind),
      });
      // A queryable store answers from this operator's state (one per task).
      if (node.store !== undefined) env.stores.register(node.store, op);
      return op as Operator;
    }
    case 'rolling': {
      // A running aggregate is a table: queryable by its stage name, from its accumulators.
      const op = new RollingAggregateOperator(node.name, aggregateFunction(node.aggregate), env.onError, env.table?.('accumulators'));
      env.stores.registerTable(node.name, op);
      return op;
    }
    case 'table': {
      const op = new TableOperator({ name: node.name, changelog: node.changelog, ...(node.versionsMs === undefined ? {} : { versionsMs: node.versionsMs }), ...(env.table ? { table: env.table('rows') } : {}) });
      env.stores.registerTable(node.name, op);
      return op;
    }
    case 'stream-table-join':
      return new StreamTableJoinOperator({ name: node.name, join: node.join, fn: node.fn, onError: env.onError, ...(node.versionsMs === undefined ? {} : { versionsMs: node.versionsMs }), ...(env.table ? { table: env.table('join') } : {}) });
    case 'table-join': {
      const op = new TableJoinOperator({ name: node.name, join: node.join, fn: node.fn, onError: env.onError, ...(env.table ? { table: env.table('join') } : {}) });
      env.stores.registerTable(node.name, op);
      return op;
    }
    case 'fk-subscribe':
      return new ForeignKeySubscribeOperator(node.name, node.fk, env.onError);
    case 'fk-lookup':
      return new ForeignKeyLookupOperator({ name: node.name, join: node.join, fn: node.fn, onError: env.onError, ...(env.table ? { table: env.table('lookup') } : {}) });
    case 'fk-result': {
      const op = new ForeignKeyResultOperator(node.name, env.table?.('rows'));
      env.stores.registerTable(node.name, op);
      return op;
    }
    case 'process':
      return new ProcessOperator({
        name: node.name,
        fn: node.fn,
        now: env.clock,
        onError: env.onError,
        ...(env.table ? { table: env.table('keyed'), ...processTimers(env.table) } : {}),
      });
    case 'pattern':
      return new PatternOperator({
        name: node.name,
        pattern: node.pattern,
        skip: node.skip,
        time: node.time,
        timedOutTag: PATTERN_TIMED_OUT,
        ...(node.lateSideOutput !== undefined ? { lateSideOutput: node.lateSideOutput } : {}),
        ...(node.ttlMs !== undefined ? { ttlMs: node.ttlMs } : {}),
        clock: env.clock,
        onError: env.onError,
        ...(env.table ? { table: env.table('pattern') } : {}),
      });
    case 'sink':
      if (node.mode?.kind === 'update') return new WindowUpdateSinkOperator(node.name, node.topic, env.sink, { retainMs: node.mode.retainMs, onError: env.onError, ...(node.codec ? { codec: node.codec } : {}), ...(env.table ? { table: env.table('last') } : {}) });
      if (node.mode?.kind === 'complete') return new CompleteSinkOperator(node.name, node.topic, env.sink, { of: node.mode.of, onError: env.onError, ...(node.codec ? { codec: node.codec } : {}), ...(env.table ? { table: env.table('rows') } : {}) });
      if (node.changelog) return new TableSinkOperator(node.name, node.topic, env.sink, env.onError, node.codec);
      return new TopicSinkOperator(node.name, node.topic, env.sink, env.onError, node.codec);
    case 'print':
      return new PrintOperator(node.name, node.prefix, env.print);
    case 'connectorSink': {
      if (env.connectorSink === undefined) throw new SluiceError('INVALID_PLAN', `sink '${node.name}' (${node.sink.describe}) needs a job to run it`);
      return new ConnectorSinkOperator(node.name, env.connectorSink(node.name));
    }
    case 'windowJoin':
      return new WindowJoinOperator({ name: node.name, window: node.window, lateness: node.lateness, fn: node.fn, onError: env.onError, table: env.table?.('windows') });
    case 'intervalJoin': {
      // Exclusive bounds narrow by one millisecond, as Flink's do.
      const { lowerMs, upperMs, lowerExclusive, upperExclusive } = node.bounds;
      return new IntervalJoinOperator({
        name: node.name,
        lowerMs: lowerMs + (lowerExclusive ? 1 : 0),
        upperMs: upperMs - (upperExclusive ? 1 : 0),
        type: node.type,
        fn: node.fn,
        onError: env.onError,
        table: env.table?.('join'),
        ...(node.lateness.lateSideOutput === undefined ? {} : { lateSideOutput: node.lateness.lateSideOutput }),
      });
    }
  }
}

/** The aggregate function the operators run for what the graph describes. */
function aggregateFunction(spec: AggregateSpec): AggregateFunction {
  switch (spec.kind) {
    case 'count':
      return aggregates.count();
    case 'sum':
      return aggregates.sum(spec.of);
    case 'min':
      return aggregates.min(spec.of);
    case 'max':
      return aggregates.max(spec.of);
    case 'avg':
      return aggregates.avg(spec.of);
    case 'collect':
      return aggregates.collect(spec.of);
    case 'reduce':
      return aggregates.reduce(spec.fn);
    case 'aggregate':
      return aggregates.fold(spec.init, spec.add, spec.merge);
  }
}

/** A window operator's table of each key's windows, and on a durable backend the time index of its timers (time-based windows). */
function windowTables(table: (<V>(kind: string) => KeyedTable<V>) | undefined, kind: string): { table?: KeyedTable<unknown>; timerIndex?: KeyedTable<unknown> } {
  if (table === undefined) return {};
  const windows = table<unknown>('windows');
  if (!windows.durable || !['tumbling', 'hopping', 'sliding', 'session'].includes(kind)) return { table: windows };
  return { table: windows, timerIndex: table<unknown>('window-timer-index') };
}

/** A process operator's timer tables, and on a durable backend (lmdb) their time indexes, so its timers need not all fit in the heap. */
function processTimers(table: <V>(kind: string) => KeyedTable<V>): Pick<ProcessOperatorOptions, 'timerTables' | 'timerIndexes'> {
  const timerTables = { event: table<KeyTimes>('event-timers'), processing: table<KeyTimes>('processing-timers') };
  if (!timerTables.event.durable) return { timerTables };
  const event = table<IndexedTimer>('event-timer-index');
  const processing = table<IndexedTimer>('processing-timer-index');
  return isOrderedTable(event) && isOrderedTable(processing) ? { timerTables, timerIndexes: { event, processing } } : { timerTables };
}
