/**
 * `WindowedStream<K, T>`: a keyed stream grouped into windows, with its lateness and emission
 * mode; an aggregate makes a `WindowResultStream` of `{ key, start, end, value }` per window.
 */
import { type Codec, type Duration, SluiceError, toMillis } from '../core/index.ts';
import type { EmitSpec, LatenessSpec, WindowSpec } from '../time/index.ts';
import { aggregateSpec, numeric, reduceSpec } from './aggregate-specs.ts';
import { checkFunction, checkTopic, type GraphBuilder } from './builder.ts';
import type { Sink } from './connector.ts';
import type { AggregateSpec, NodeId } from './graph.ts';
import { type OutputMode, windowSinkNode } from './output-mode.ts';
import type { AggregateOptions, EmitOption, StageOptions, WindowStageOptions } from './stage-options.ts';
import { checkOptions, Stream } from './stream-stage.ts';

/** A window's result: `{ key, start, end, value }`, written to topics as JSON with `key` as the record key. */
export interface WindowResult<K, V> {
  key: K;
  /** Window start, epoch ms (inclusive). */
  start: number;
  /** Window end, epoch ms (exclusive). */
  end: number;
  value: V;
}

/**
 * A keyed stream grouped into windows; an aggregate turns it back into a stream of results.
 * @example
 * events.keyBy((e) => e.k).window(Windows.hopping('1m', '20s')).allowedLateness('30s').sideOutputLateData('late-events').sum((e) => e.v).to('sums');
 */
export class WindowedStream<K, T> {
  readonly #builder: GraphBuilder;
  readonly #input: NodeId;
  readonly #window: WindowSpec;
  readonly #lateness: LatenessSpec;
  readonly #emit: EmitSpec;

  /** @internal Made by `KeyedStream.window()`. */
  constructor(builder: GraphBuilder, input: NodeId, window: WindowSpec, lateness: LatenessSpec, emit: EmitSpec) {
    this.#builder = builder;
    this.#input = input;
    this.#window = window;
    this.#lateness = lateness;
    this.#emit = emit;
  }

  /** Keeps fired windows open for late records this long; each late record re-fires its window. */
  allowedLateness(lateness: Duration): WindowedStream<K, T> {
    if (this.#window.kind === 'count-tumbling' || this.#window.kind === 'count-sliding') {
      throw new SluiceError('INVALID_ARGUMENT', 'count windows have no event time, so no lateness; drop .allowedLateness() or use a time window');
    }
    const allowedLatenessMs = toMillis(lateness, 'allowedLateness()');
    return new WindowedStream(this.#builder, this.#input, this.#window, { ...this.#lateness, allowedLatenessMs }, this.#emit);
  }

  /** Writes records too late for every one of their windows to a topic instead of dropping them. */
  sideOutputLateData(topic: string): WindowedStream<K, T> {
    checkTopic(topic, 'sideOutputLateData()');
    return new WindowedStream(this.#builder, this.#input, this.#window, { ...this.#lateness, lateSideOutput: topic }, this.#emit);
  }

  /** Emission mode: `'final'` (default), `{ everyRecords: n }` or `{ every: '10s' }` early updates, then final. */
  emit(mode: EmitOption): WindowedStream<K, T> {
    return new WindowedStream(this.#builder, this.#input, this.#window, this.#lateness, toEmitSpec(mode));
  }

  count(options: WindowStageOptions = {}): WindowResultStream<K, number> {
    return this.#aggregate({ kind: 'count' }, options);
  }
  sum(of: (value: T) => number, options: WindowStageOptions = {}): WindowResultStream<K, number> {
    return this.#aggregate(numeric('sum', of), options);
  }
  min(of: (value: T) => number, options: WindowStageOptions = {}): WindowResultStream<K, number> {
    return this.#aggregate(numeric('min', of), options);
  }
  max(of: (value: T) => number, options: WindowStageOptions = {}): WindowResultStream<K, number> {
    return this.#aggregate(numeric('max', of), options);
  }
  avg(of: (value: T) => number, options: WindowStageOptions = {}): WindowResultStream<K, number> {
    return this.#aggregate(numeric('avg', of), options);
  }
  /** The window's values (or `of(value)` of each) as a list, in arrival order: collect_list. */
  collect<U = T>(of?: (value: T) => U, options: WindowStageOptions = {}): WindowResultStream<K, U[]> {
    if (of !== undefined) checkFunction(of, 'collect()', '.collect((e) => e.page)');
    return this.#aggregate(of === undefined ? { kind: 'collect' } : { kind: 'collect', of }, options);
  }
  reduce(fn: (a: T, b: T) => T, options: WindowStageOptions = {}): WindowResultStream<K, T> {
    return this.#aggregate(reduceSpec(fn), options);
  }
  /**
   * Folds each window: `init()` then `add(key, value, acc)` per record. With `queryable: true`
   * it is also the store `name` (a name alone only names the stage). Session windows need `merge`
   * as well, to combine two sessions' accumulators.
   * @example
   * orders.keyBy((o) => o.customer).window(Windows.tumbling('1h'))
   *   .aggregate(() => 0, (key, order, total) => total + order.total, { name: 'hourly-order-totals', queryable: true });
   * orders.keyBy((o) => o.customer).window(Windows.session('30m'))
   *   .aggregate(() => 0, (key, order, total) => total + order.total, { merge: (a, b) => a + b, name: 'session-totals' });
   */
  aggregate<A>(init: () => A, add: (key: K, value: T, acc: A) => A, options: AggregateOptions<A> = {}): WindowResultStream<K, A> {
    const spec = aggregateSpec(init, add, options);
    if (this.#window.kind === 'session' && spec.merge === undefined) {
      throw new SluiceError(
        'INVALID_ARGUMENT',
        "aggregate() on session windows needs a merge: a record that bridges two sessions merges their accumulators; write .aggregate(() => 0, (key, order, total) => total + order.total, { merge: (a, b) => a + b })",
      );
    }
    return this.#aggregate(spec, options);
  }

  #aggregate<V>(aggregate: AggregateSpec, options: WindowStageOptions): WindowResultStream<K, V> {
    checkOptions(options, 'a windowed aggregate', "{ name: 'hourly-order-totals', queryable: true }");
    if (options.queryable !== undefined && typeof options.queryable !== 'boolean') {
      throw new SluiceError('INVALID_ARGUMENT', `queryable must be true or false, got ${JSON.stringify(options.queryable)}; write { name: 'hourly-order-totals', queryable: true }`);
    }
    if (options.queryable === true && options.name === undefined) {
      throw new SluiceError('INVALID_ARGUMENT', "a queryable aggregate is queried by its name; write { name: 'hourly-order-totals', queryable: true }");
    }
    const node = { kind: 'window' as const, input: this.#input, window: this.#window, lateness: this.#lateness, emit: this.#emit, aggregate };
    const id = this.#builder.add(node, options.name);
    if (options.queryable === true) this.#builder.materialize(id, options.name!);
    return new WindowResultStream<K, V>(this.#builder, id);
  }
}

/**
 * The results of a windowed aggregate, `{ key, start, end, value }` per window, which can be
 * made a queryable store.
 * @example
 * events.keyBy((e) => e.url).window(Windows.tumbling('1m')).count().materialize('clicks-per-minute').to('clicks-per-minute');
 */
export class WindowResultStream<K, V> extends Stream<WindowResult<K, V>> {
  /**
   * Writes the results to a topic in an output mode: `'append'` (default) each window once, when
   * it fires (and again at each late re-firing); `'update'` an upsert at every change of a
   * window, the final value last, never the same value twice in a row; `'complete'` every
   * window's latest result at each checkpoint. Update and complete take the window's only reader.
   * @example events.keyBy((e) => e.url).window(Windows.tumbling('1m')).count().to('live-counts', { mode: 'update' });
   */
  override to(topic: string, options?: StageOptions & { codec?: Codec<WindowResult<K, V>>; mode?: OutputMode }): void;
  override to(sink: Sink<WindowResult<K, V>>, options?: StageOptions): void;
  override to(target: string | Sink<WindowResult<K, V>>, options: StageOptions & { codec?: Codec<WindowResult<K, V>>; mode?: OutputMode } = {}): void {
    if (typeof target !== 'string') {
      super.to(target as Sink<WindowResult<K, V>>, options);
      return;
    }
    checkOptions(options, 'to()', "{ mode: 'update' }");
    windowSinkNode(this.builder, this.nodeId, target, options);
  }

  /**
   * Serves these windows as the store `name`: `app.store(name)` reads them from the window
   * operator's state while the app runs (windows open, or fired and within allowed lateness).
   * Returns this stream, to go on with.
   */
  materialize(name: string): WindowResultStream<K, V> {
    this.builder.materialize(this.nodeId, name);
    return this;
  }
}

function toEmitSpec(mode: EmitOption): EmitSpec {
  if (mode === 'final') return { kind: 'final' };
  if (mode !== null && typeof mode === 'object') {
    if ('everyRecords' in mode) {
      if (Number.isInteger(mode.everyRecords) && mode.everyRecords > 0) return { kind: 'early-count', every: mode.everyRecords };
    } else if ('every' in mode) {
      const everyMs = toMillis(mode.every, 'emit({ every })');
      if (everyMs > 0) return { kind: 'early-interval', everyMs };
    }
  }
  throw new SluiceError('INVALID_ARGUMENT', `emit(${JSON.stringify(mode)}) is not an emission mode; write .emit('final'), .emit({ everyRecords: 100 }) or .emit({ every: '10s' })`);
}
