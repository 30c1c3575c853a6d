/**
 * `KeyedStream<K, T>`: a stream grouped by key. Windows, keyed process functions, patterns,
 * interval joins, stream-table joins and running aggregates (tables) start here.
 */
import { type Duration, SluiceError } from '../core/index.ts';
import { numeric, reduceSpec, aggregateSpec } from './aggregate-specs.ts';
import { checkFunction } from './builder.ts';
import type { AggregateSpec } from './graph.ts';
import { IntervalJoin, type IntervalJoinOptions, type JoinedStreams } from './join.ts';
import type { Pattern } from './pattern.ts';
import type { PatternOptions } from './pattern-spec.ts';
import { PatternStream } from './pattern-stream.ts';
import type { ProcessFunction } from './process.ts';
import type { StageOptions } from './stage-options.ts';
import { checkOptions, setKeyedStreamFactory, Stream } from './stream-stage.ts';
import { Table } from './table.ts';
import { streamTableJoinNode, toTableNode } from './table-nodes.ts';
import { type WindowArgument, toWindowSpec } from './window-argument.ts';
import { WindowedStream } from './windowed-stream.ts';

declare module './stream-stage.ts' {
  /** `keyBy()` returns a KeyedStream (see stream-stage.ts: it cannot import this file). */
  interface StreamStageTypes<K, T> {
    keyed: KeyedStream<K, T>;
  }
}

/** A running (non-windowed) aggregate's update for one key. */
export interface KeyedResult<K, V> {
  key: K;
  value: V;
}

/**
 * A stream grouped by key. Windows, keyed process functions and running aggregates need it.
 * @example
 * events.keyBy((e) => e.url).window(TumblingWindow.of(5, MINUTES)).count().to('clicks-per-url');
 */
export class KeyedStream<K, T> extends Stream<T> {
  /** Groups each key's records into windows. */
  window(window: WindowArgument): WindowedStream<K, T> {
    return new WindowedStream<K, T>(this.builder, this.nodeId, toWindowSpec(window), { allowedLatenessMs: 0 }, { kind: 'final' });
  }

  /** Runs a process function with keyed state and timers. */
  process<O>(fn: ProcessFunction<K, T, O>, options: StageOptions = {}): Stream<O> {
    if (fn === null || typeof fn !== 'object' || typeof fn.processElement !== 'function') {
      throw new SluiceError('INVALID_ARGUMENT', 'process() expects an object with processElement(value, ctx); write .process({ processElement(v, ctx) { ctx.emit(v); } })');
    }
    if (fn.onTimer !== undefined) checkFunction(fn.onTimer, 'process() onTimer', 'onTimer(timestamp, ctx) { ... }');
    return new Stream(this.builder, this.builder.add({ kind: 'process', input: this.nodeId, fn }, options.name));
  }

  /**
   * Finds `pattern` in each key's events, in event-time order (see docs/semantics.md); take the
   * matches with `.select()` or `.flatSelect()`, partial matches that ran out of time with `.timedOut()`.
   * @example
   * events.keyBy((e) => e.user).pattern(foreignPurchase, { skip: 'skipPastLastEvent' })
   *   .select((m) => ({ user: m.login[0].user, to: m.buy[0].country })).to('fraud-alerts');
   */
  pattern(pattern: Pattern<T>, options: PatternOptions = {}): PatternStream<K, T> {
    return new PatternStream<K, T>(this.builder, this.nodeId, pattern, options);
  }

  /**
   * An interval join with `other`, keyed by the same kind of key: pairs whose right record's
   * time is within `.between(lower, upper)` of the left one's. `{ type: 'left' }` also emits
   * each unmatched left record once with `null` for the right; `'outer'` both sides' unmatched.
   * @example
   * impressions.keyBy((i) => i.adId).intervalJoin(clicks.keyBy((c) => c.adId)).between('-10m', '10m')
   *   .process((i, c) => ({ ad: i.adId, timeToClick: c.ts - i.ts }));
   */
  intervalJoin<U>(other: KeyedStream<K, U>, options?: { type?: 'inner' }): IntervalJoin<K, T, U>;
  intervalJoin<U>(other: KeyedStream<K, U>, options: { type: 'left' }): IntervalJoin<K, T, U | null>;
  intervalJoin<U>(other: KeyedStream<K, U>, options: { type: 'outer' }): IntervalJoin<K, T | null, U | null>;
  intervalJoin<U>(other: KeyedStream<K, U>, options?: IntervalJoinOptions): IntervalJoin<K, T | null, U | null>;
  intervalJoin<U>(other: KeyedStream<K, U>, options: IntervalJoinOptions = {}): IntervalJoin<K, T | null, U | null> {
    if (!(other instanceof KeyedStream) || other.builder !== this.builder) {
      throw new SluiceError('INVALID_ARGUMENT', 'intervalJoin() takes a keyed stream of the same app; write a.keyBy(f).intervalJoin(b.keyBy(g)).between(...)');
    }
    return new IntervalJoin(this.builder, this.nodeId, other.nodeId, options, (id) => new Stream(this.builder, id));
  }

  /**
   * The latest record per key, as a table (a null record deletes its key). With `versions`, it
   * keeps each key's earlier rows that long before the watermark: `asOf` lookups and joins at
   * event time read them.
   * @example clicks.keyBy((c) => c.user).toTable({ name: 'last-click' })
   */
  toTable(options: StageOptions & { versions?: Duration } = {}): Table<K, T> {
    checkOptions(options, 'toTable()', "{ name: 'last-click' }");
    return new Table<K, T>(this.builder, toTableNode(this.builder, this.nodeId, options));
  }

  /** Running count per key: a table, updated by every record. */
  count(options: StageOptions = {}): Table<K, number> {
    return this.#rolling({ kind: 'count' }, options);
  }
  sum(of: (value: T) => number, options: StageOptions = {}): Table<K, number> {
    return this.#rolling(numeric('sum', of), options);
  }
  min(of: (value: T) => number, options: StageOptions = {}): Table<K, number> {
    return this.#rolling(numeric('min', of), options);
  }
  max(of: (value: T) => number, options: StageOptions = {}): Table<K, number> {
    return this.#rolling(numeric('max', of), options);
  }
  avg(of: (value: T) => number, options: StageOptions = {}): Table<K, number> {
    return this.#rolling(numeric('avg', of), options);
  }
  reduce(fn: (a: T, b: T) => T, options: StageOptions = {}): Table<K, T> {
    return this.#rolling(reduceSpec(fn), options);
  }
  /**
   * Folds every record of a key into its row of a table (Kafka Streams' `aggregate`), queryable
   * by its name while the app runs.
   * @example
   * const carts = events.keyBy((e) => e.cart).aggregate(() => ({ items: {} }), (cart, e, acc) => apply(acc, e), { name: 'carts' });
   * app.table('carts').get('cart-1');
   */
  aggregate<A>(init: () => A, add: (key: K, value: T, acc: A) => A, options: StageOptions = {}): Table<K, A> {
    return this.#rolling(aggregateSpec(init, add), options);
  }

  /**
   * Joins each record with its key's row of `table` (Kafka Streams' stream-table join); only
   * stream records emit, a record whose key has no row emits nothing. A versioned table
   * (`versions`) joins the row valid at the record's event time, once the watermark of both
   * inputs passed it; an unversioned one the latest row when the record is processed.
   * @example clicks.keyBy((c) => c.user).join(users, (click, user) => ({ ...click, name: user.name }))
   */
  override join<W, R>(table: Table<K, W>, fn: (event: T, row: W) => R, options?: StageOptions): Stream<R>;
  /** A window join with another stream, as on any stream (see `Stream.join`). */
  override join<U>(other: Stream<U>): JoinedStreams<T, U>;
  override join(other: unknown, fn?: unknown, options: StageOptions = {}): unknown {
    if (other instanceof Table) return this.#tableJoin(other, 'inner', fn, options);
    if (other instanceof Stream && fn === undefined) return super.join(other);
    throw new SluiceError('INVALID_ARGUMENT', 'join() on a keyed stream takes a table (app.table(topic), keyed.toTable(), keyed.count(), ...), or a stream for a window join; write stream.keyBy((e) => e.user).join(users, (event, user) => ({ ...event, user })) or a.join(b).where(f).equalTo(g).window(...).apply(fn)');
  }

  /** As `join`, but a record whose key has no row joins `null`. */
  leftJoin<W, R>(table: Table<K, W>, fn: (event: T, row: W | null) => R, options: StageOptions = {}): Stream<R> {
    if (!(table instanceof Table)) throw new SluiceError('INVALID_ARGUMENT', 'leftJoin() takes a table; write stream.keyBy((e) => e.user).leftJoin(users, (event, user) => ({ ...event, tier: user?.tier ?? null }))');
    return this.#tableJoin(table, 'left', fn, options);
  }

  #tableJoin<R>(table: Table<K, unknown>, join: 'inner' | 'left', fn: unknown, options: StageOptions): Stream<R> {
    checkOptions(options, join === 'inner' ? 'join()' : 'leftJoin()', "{ name: 'enrich-clicks' }");
    if (table.builder !== this.builder) throw new SluiceError('INVALID_ARGUMENT', 'join() takes a table of the same app');
    return new Stream<R>(this.builder, streamTableJoinNode(this.builder, this.nodeId, table.info, join, fn as (e: unknown, r: unknown) => unknown, options.name));
  }

  #rolling<V>(aggregate: AggregateSpec, options: StageOptions): Table<K, V> {
    checkOptions(options, 'a running aggregate', "{ name: 'counts-per-user' }");
    if ('queryable' in options) {
      throw new SluiceError('INVALID_ARGUMENT', "a running aggregate (on a keyed stream, without a window) is a table, queryable by its name: drop queryable, give { name: 'counts-per-user' } and read app.table('counts-per-user')");
    }
    const node = this.builder.add({ kind: 'rolling', input: this.nodeId, aggregate }, options.name);
    return new Table<K, V>(this.builder, { node, queryName: this.builder.node(node).name });
  }
}

setKeyedStreamFactory((builder, node) => new KeyedStream(builder, node));
