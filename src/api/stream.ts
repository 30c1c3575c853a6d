/**
 * The stages of a pipeline, each its own type: `Stream<T>` -> `KeyedStream<K, T>` ->
 * `WindowedStream<K, T>`, and `Table<K, V>` (the latest row per key). A window needs a key and
 * an aggregate needs a window or a key, so wrong pipelines do not compile. Every method only
 * records a node in the graph (a table's nodes: table-nodes.ts). One file, since each stage
 * makes the others.
 */
import { type Codec, type Duration, SluiceError, toMillis } from '../core/index.ts';
import type { EmitSpec, LatenessSpec, WindowSpec } from '../time/index.ts';
import { checkCodec, checkFunction, checkName, checkTopic, type GraphBuilder } from './builder.ts';
import { isSink, missingSinkHooks, type Sink } from './connector.ts';
import type { AggregateSpec, LogicalNode, NodeId } from './graph.ts';
import { IntervalJoin, type IntervalJoinOptions, JoinedStreams } from './join.ts';
import { checkPattern, type Pattern, toSkipSpec } from './pattern.ts';
import { PATTERN_TIMED_OUT, type PatternMatch, type PatternOptions } from './pattern-spec.ts';
import type { ProcessFunction } from './process.ts';
import {
  type TableChange,
  type TableInfo,
  TableReader,
  foreignKeyJoinNode,
  streamTableJoinNode,
  tableFilterNode,
  tableJoinNode,
  tableMapNode,
  tableSinkNode,
  toTableNode,
} from './table-nodes.ts';
import { type OutputMode, windowSinkNode } from './output-mode.ts';
import { type WindowArgument, toWindowSpec } from './window-argument.ts';

/** A window's result: `{ key, start, end, value }`, written to topics as JSON with `key` as the record key. */
export interface WindowResult<K, V> {
  key: K;
  /** Window start, epoch ms (inclusive). */
  start: number;
  /** Window end, epoch ms (exclusive). */
  end: number;
  value: V;
}

/** A running (non-windowed) aggregate's update for one key. */
export interface KeyedResult<K, V> {
  key: K;
  value: V;
}

export type { TableChange } from './table-nodes.ts';

/** Options common to stages: a stable name for state, metrics and errors. */
export interface StageOptions {
  name?: string;
}

/** Options of a windowed aggregate: a stable name, and whether it is a queryable store. */
export interface WindowStageOptions extends StageOptions {
  /**
   * Serve this aggregate's windows as the store `name`: `app.store(name)` reads them from the
   * operator's state while the app runs. Needs a `name`; the same as `.materialize(name)`.
   */
  queryable?: boolean;
}

/**
 * Options of `aggregate(init, add, options)`: a stable name, and `merge`, which combines two
 * accumulators (the earlier one first). Session windows need it: a record that bridges two
 * sessions merges them. Hopping windows use it to aggregate each slice of time once.
 */
export interface AggregateOptions<A> extends WindowStageOptions {
  merge?: (a: A, b: A) => A;
}

/** Options of `mapAsync()`. */
export interface MapAsyncOptions extends StageOptions {
  /** Calls running at once (default 16). */
  concurrency?: number;
  /** Per attempt (default '30s'); the call's `signal` aborts when it passes. */
  timeout?: Duration;
  /** Further attempts for a call that failed or timed out (default 0). */
  retries?: number;
  /** Wait before the first retry, doubled for each next one (default '100ms'). */
  retryBackoff?: Duration;
  /** Emit results as calls complete instead of in input order. */
  unordered?: boolean;
  /** Records held (running, waiting, done) before the pipeline reads no more input (default max(100, 4 x concurrency)). */
  capacity?: number;
}

declare module './join.ts' {
  /** Join results are Streams (see join.ts: it cannot import this file). */
  interface JoinStreamTypes<O> {
    stream: Stream<O>;
  }
}

/** When a window emits: `'final'` (default) once it fires, or early updates before that. */
export type EmitOption = 'final' | { everyRecords: number } | { every: Duration };

/**
 * A stream of values of type T.
 * @example
 * events.filter((e) => e.action === 'purchase').map((e) => ({ user: e.user_id, amount: e.amount })).to('purchases');
 */
export class Stream<T> {
  /** @internal */
  readonly builder: GraphBuilder;
  /** @internal The node producing this stream. */
  readonly nodeId: NodeId;

  /** @internal Streams are made by `app.stream()` and the methods of other streams. */
  constructor(builder: GraphBuilder, nodeId: NodeId) {
    this.builder = builder;
    this.nodeId = nodeId;
  }

  /**
   * Keeps the values for which `fn` returns true; a type-guard predicate narrows the stream.
   * @example events.filter((e): e is Bid => e.type === 'bid')
   */
  filter<S extends T>(fn: (value: T) => value is S, options?: StageOptions): Stream<S>;
  filter(fn: (value: T) => boolean, options?: StageOptions): Stream<T>;
  filter(fn: (value: T) => boolean, options: StageOptions = {}): Stream<T> {
    checkFunction(fn, 'filter()', '.filter((e) => e.action === "click")');
    return new Stream(this.builder, this.builder.add({ kind: 'filter', input: this.nodeId, fn }, options.name));
  }

  /** Transforms each value. The key of the last keyed stage stays with the record. */
  map<U>(fn: (value: T) => U, options: StageOptions = {}): Stream<U> {
    checkFunction(fn, 'map()', '.map((e) => ({ user: e.user_id }))');
    return new Stream(this.builder, this.builder.add({ kind: 'map', input: this.nodeId, fn }, options.name));
  }

  /**
   * Transforms each value with an async function (a lookup, an HTTP call): at most `concurrency`
   * calls at once, results in input order unless `unordered`, each call given `timeout` (its
   * `signal` aborts then) and `retries` more tries; a record whose calls all fail is dead-lettered.
   * Records whose calls are in flight at a checkpoint are part of it and called again on restore.
   * @example
   * clicks.mapAsync(async (e, { signal }) => ({ ...e, user: await lookup(e.user_id, signal) }), { concurrency: 16, timeout: '5s' })
   */
  mapAsync<U>(fn: (value: T, context: { signal: AbortSignal; attempt: number }) => Promise<U> | U, options: MapAsyncOptions = {}): Stream<U> {
    checkFunction(fn, 'mapAsync()', '.mapAsync((e) => lookup(e), { concurrency: 16, timeout: "5s" })');
    checkOptions(options, 'mapAsync()', "{ concurrency: 16, timeout: '5s' }");
    const positive = (n: unknown, what: string, fallback: number, min = 1): number => {
      if (n === undefined) return fallback;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < min) throw new SluiceError('INVALID_ARGUMENT', `mapAsync(): ${what} must be an integer of at least ${min}, got ${JSON.stringify(n)}; write { concurrency: 16, timeout: '5s' }`);
      return n;
    };
    const concurrency = positive(options.concurrency, 'concurrency', 16);
    const timeoutMs = options.timeout === undefined ? 30_000 : toMillis(options.timeout, 'mapAsync() timeout');
    if (!(timeoutMs > 0)) throw new SluiceError('INVALID_ARGUMENT', `mapAsync(): timeout must be positive; write timeout: '5s'`);
    const retries = positive(options.retries, 'retries', 0, 0);
    const retryBackoffMs = options.retryBackoff === undefined ? 100 : toMillis(options.retryBackoff, 'mapAsync() retryBackoff');
    const capacity = positive(options.capacity, 'capacity', Math.max(100, concurrency * 4));
    if (capacity < concurrency) throw new SluiceError('INVALID_ARGUMENT', `mapAsync(): capacity (${capacity}) must be at least concurrency (${concurrency})`);
    const async = { concurrency, timeoutMs, retries, retryBackoffMs, ordered: options.unordered !== true, capacity };
    return new Stream(this.builder, this.builder.add({ kind: 'mapAsync', input: this.nodeId, fn, async }, options.name));
  }

  /** Transforms each value into zero or more values. */
  flatMap<U>(fn: (value: T) => Iterable<U>, options: StageOptions = {}): Stream<U> {
    checkFunction(fn, 'flatMap()', '.flatMap((line) => line.split(" "))');
    return new Stream(this.builder, this.builder.add({ kind: 'flatMap', input: this.nodeId, fn }, options.name));
  }

  /** Groups by a key: records move to the task that owns their key. */
  keyBy<K>(fn: (value: T) => K, options: StageOptions = {}): KeyedStream<K, T> {
    checkFunction(fn, 'keyBy()', '.keyBy((e) => e.url)');
    return new KeyedStream(this.builder, this.builder.add({ kind: 'keyBy', input: this.nodeId, fn }, options.name));
  }

  /**
   * Merges streams of the same type; a last argument `{ name }` names the stage.
   * @example clicks.union(taps, { name: 'all-clicks' })
   */
  union(...others: Stream<T>[]): Stream<T>;
  union(...args: [...others: Stream<T>[], options: StageOptions]): Stream<T>;
  union(...args: (Stream<T> | StageOptions)[]): Stream<T> {
    const last = args.at(-1);
    const options: StageOptions = last !== undefined && !(last instanceof Stream) ? last : {};
    const others = last === options ? args.slice(0, -1) : args;
    checkOptions(options, 'union()', "a.union(b, { name: 'all-clicks' })");
    for (const other of others) {
      if (!(other instanceof Stream) || other.builder !== this.builder) {
        throw new SluiceError('INVALID_ARGUMENT', 'union() takes streams of the same app; write a.union(b, c)');
      }
    }
    const inputs = [this.nodeId, ...(others as Stream<T>[]).map((s) => s.nodeId)];
    return new Stream(this.builder, this.builder.add({ kind: 'union', inputs }, options.name));
  }

  /**
   * A window join with `other`: name the keys with `.where()` (this stream) and `.equalTo()`
   * (`other`), then the windows and the function of each pair.
   * @example
   * impressions.join(clicks).where((i) => i.adId).equalTo((c) => c.adId).window(Windows.tumbling('1m')).apply((i, c) => ({ ad: i.adId, user: c.user }));
   */
  join<U>(other: Stream<U>): JoinedStreams<T, U> {
    if (!(other instanceof Stream) || other.builder !== this.builder) {
      throw new SluiceError('INVALID_ARGUMENT', 'join() takes a stream of the same app; write a.join(b).where((x) => x.k).equalTo((y) => y.k).window(...).apply((x, y) => ...)');
    }
    return new JoinedStreams<T, U>(this.builder, this.nodeId, other.nodeId, (id) => new Stream(this.builder, id));
  }

  /** The values a process function sent to `ctx.output(tag, value)`. */
  sideOutput<U>(tag: string, options: StageOptions = {}): Stream<U> {
    checkName(tag);
    if (this.builder.node(this.nodeId).kind !== 'process') {
      throw new SluiceError('INVALID_ARGUMENT', `sideOutput('${tag}') reads a side output of process(); call it on the stream process() returns`);
    }
    return new Stream(this.builder, this.builder.add({ kind: 'side', input: this.nodeId, tag }, options.name));
  }

  /**
   * Writes each value to a topic (as JSON unless a codec is given), keyed by the key of the last
   * keyed stage; or to a sink outside the log, which commits with each checkpoint.
   * @example
   * results.to('clicks-per-url');
   * rows.to(sinks.postgres({ url, table: 'user_clicks', key: ['user_id', 'window_start'] }));
   */
  to(topic: string, options?: StageOptions & { codec?: Codec<T> }): void;
  to(sink: Sink<T>, options?: StageOptions): void;
  to(target: string | Sink<T>, options: StageOptions & { codec?: Codec<T> } = {}): void {
    if (typeof target === 'object' && target !== null) {
      if (!isSink(target)) {
        throw new SluiceError('INVALID_ARGUMENT', `to() takes a topic name or a sink; this object lacks ${missingSinkHooks(target).join(', ')}; write .to(sinks.file({ path: 'out/alerts.jsonl' })) or see the Sink interface`);
      }
      checkOptions(options, 'to()', "{ name: 'clicks-to-postgres' }");
      this.builder.add({ kind: 'connectorSink', input: this.nodeId, sink: target as Sink }, options.name);
      return;
    }
    const topic = target;
    checkTopic(topic, 'to()');
    const codec = checkCodec(options.codec, 'to()');
    this.builder.add({ kind: 'sink', input: this.nodeId, topic, ...(codec ? { codec } : {}) }, options.name);
  }

  /**
   * Prints each value to stdout, after `prefix`.
   * @example alerts.print('alert: ', { name: 'print-alerts' })
   */
  print(prefix = '', options: StageOptions = {}): void {
    checkOptions(options, 'print()', "stream.print('alert: ', { name: 'print-alerts' })");
    this.builder.add({ kind: 'print', input: this.nodeId, prefix: String(prefix) }, options.name);
  }
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

/**
 * A table: the latest row per key (Kafka Streams' KTable). Every change of a row flows on as a
 * changelog; a stream joined with it reads its rows. A table that holds state (a source table,
 * `toTable()`, a running aggregate, a table join) is queryable by its name while the app runs:
 * `app.table(name).get(key)`, `.scan({ prefix, limit })`, and on a versioned table `.asOf(key, time)`.
 * @example
 * const users = app.table<{ name: string; tier: string }>('users', { versions: '1h' });
 * clicks.keyBy((c) => c.user).join(users, (click, user) => ({ ...click, ...user })).to('enriched');
 */
export class Table<K, V> {
  /** @internal */
  readonly builder: GraphBuilder;
  /** @internal */
  readonly info: TableInfo;

  /** @internal Tables are made by `app.table()`, `toTable()`, running aggregates and joins. */
  constructor(builder: GraphBuilder, info: TableInfo) {
    this.builder = builder;
    this.info = info;
  }

  /** @internal The node producing the changelog. */
  get nodeId(): NodeId {
    return this.info.node;
  }

  /** The name the table is queried by (`app.table(name)`), or undefined for a table without state of its own (`filter`, `mapValues`). */
  get name(): string | undefined {
    return this.info.queryName;
  }

  /** Whether the table keeps past versions (`versions`): joins at event time and `asOf` need it. */
  get versioned(): boolean {
    return this.info.versionsMs !== undefined;
  }

  /** Keeps the rows for which `fn` is true: a row that stops passing becomes a delete. */
  filter(fn: (value: V, key: K) => boolean, options: StageOptions = {}): Table<K, V> {
    checkOptions(options, 'filter()', "{ name: 'gold-users' }");
    return new Table<K, V>(this.builder, tableFilterNode(this.builder, this.info, fn, options.name));
  }

  /** Maps each row; the key stays. */
  mapValues<U>(fn: (value: V, key: K) => U, options: StageOptions = {}): Table<K, U> {
    checkOptions(options, 'mapValues()', "{ name: 'user-names' }");
    return new Table<K, U>(this.builder, tableMapNode(this.builder, this.info, fn, options.name));
  }

  /** The changelog: `{ key, value, previous }` per change of a row, a delete with `value: null`. */
  toStream(): Stream<TableChange<K, V>> {
    return new Stream<TableChange<K, V>>(this.builder, this.info.node);
  }

  /**
   * Writes the changelog to a (compacted) topic: the key as the record key, the row as the value,
   * a delete as a tombstone; `app.table(topic)` reads it back. That is the `update` output mode
   * (a change that leaves a row as it was writes nothing); `{ mode: 'complete' }` writes the
   * whole table at each checkpoint instead.
   * @example carts.to('carts'); totals.to('totals-dashboard', { mode: 'complete' });
   */
  to(topic: string, options: StageOptions & { codec?: Codec<V>; mode?: 'update' | 'complete' } = {}): void {
    checkOptions(options, 'to()', "{ name: 'to-carts' }");
    tableSinkNode(this.builder, this.info, topic, options);
  }

  /**
   * Joins two tables on the key: a row where both have one; it changes when either side does and
   * is deleted when a side is. With a foreign key `fk` (Kafka Streams' foreign-key join), each row
   * joins the row of `other` whose key `fk(row)` names instead: the result is keyed by this
   * table's key, changes when the row or the row it names changes, and a row whose foreign key
   * changes leaves its old match.
   * @example
   * orders.join(customers, (order, customer) => ({ ...order, customer }));
   * orders.join(users, (order) => order.userId, (order, user) => ({ ...order, name: user.name }), { name: 'orders-with-users' });
   */
  join<W, R>(other: Table<K, W>, fn: (left: V, right: W) => R, options?: StageOptions): Table<K, R>;
  join<FK, W, R>(other: Table<FK, W>, fk: (left: V) => FK | null | undefined, fn: (left: V, right: W) => R, options?: StageOptions): Table<K, R>;
  join(other: Table<unknown, unknown>, ...args: unknown[]): Table<K, unknown> {
    return this.#joinOrForeignKey(other, 'inner', args);
  }

  /** As `join`, with a row for every left row (the right one may be null); with a foreign key, every left row joins the row it names or null. */
  leftJoin<W, R>(other: Table<K, W>, fn: (left: V, right: W | null) => R, options?: StageOptions): Table<K, R>;
  leftJoin<FK, W, R>(other: Table<FK, W>, fk: (left: V) => FK | null | undefined, fn: (left: V, right: W | null) => R, options?: StageOptions): Table<K, R>;
  leftJoin(other: Table<unknown, unknown>, ...args: unknown[]): Table<K, unknown> {
    return this.#joinOrForeignKey(other, 'left', args);
  }

  /** `(other, fn, options?)` joins on the key, `(other, fk, fn, options?)` on a foreign key. */
  #joinOrForeignKey(other: unknown, join: 'inner' | 'left', args: unknown[]): Table<K, unknown> {
    const keyJoin = args.length < 3 && (args[1] === undefined || (typeof args[1] === 'object' && args[1] !== null));
    if (keyJoin) return this.#join(other, join, args[0], (args[1] ?? {}) as StageOptions);
    const what = join === 'inner' ? 'join()' : 'leftJoin()';
    if (!(other instanceof Table) || other.builder !== this.builder) {
      throw new SluiceError('INVALID_ARGUMENT', `table ${what} takes a table of the same app; write orders.${join === 'inner' ? 'join' : 'leftJoin'}(users, (order) => order.userId, (order, user) => ({ ...order, user }))`);
    }
    const options = (args[2] ?? {}) as StageOptions;
    checkOptions(options, what, "{ name: 'orders-with-users' }");
    const fk = args[0] as (row: unknown) => unknown;
    const fn = args[1] as (a: unknown, b: unknown) => unknown;
    return new Table<K, unknown>(this.builder, foreignKeyJoinNode(this.builder, this.info, other.info, join, fk, fn, options.name));
  }

  /** As `join`, with a row for every key either side has. */
  outerJoin<W, R>(other: Table<K, W>, fn: (left: V | null, right: W | null) => R, options: StageOptions = {}): Table<K, R> {
    return this.#join(other, 'outer', fn, options);
  }

  #join<R>(other: unknown, join: 'inner' | 'left' | 'outer', fn: unknown, options: StageOptions): Table<K, R> {
    const what = join === 'inner' ? 'join()' : `${join}Join()`;
    if (!(other instanceof Table) || other.builder !== this.builder) {
      throw new SluiceError('INVALID_ARGUMENT', `table ${what} takes a table of the same app; write orders.${join === 'inner' ? 'join' : `${join}Join`}(customers, (order, customer) => ({ ...order, customer }))`);
    }
    checkOptions(options, what, "{ name: 'orders-with-customers' }");
    return new Table<K, R>(this.builder, tableJoinNode(this.builder, this.info, other.info, join, fn as (a: unknown, b: unknown) => unknown, options.name));
  }

  #reader(): TableReader {
    const name = this.info.queryName;
    if (name === undefined) {
      throw new SluiceError('INVALID_ARGUMENT', 'this table has no state of its own (filter and mapValues compute rows on the way); query the table it comes from, or write .toStream().keyBy((c) => c.key).toTable({ name }) to keep one');
    }
    return new TableReader(this.builder, this.builder.appName ?? 'this app', name, this.versioned);
  }

  /** The current row of `key` while the app runs, or undefined (read from the operator's state). */
  get(key: K): V | undefined {
    return this.#reader().get(key) as V | undefined;
  }

  /** The row `key` had at event time `time` (epoch ms), on a versioned table, or undefined. */
  asOf(key: K, time: number): V | undefined {
    return this.#reader().asOf(key, time) as V | undefined;
  }

  /** Rows in key order (keys compared as strings), those whose key starts with `prefix`, at most `limit` (default 1000). */
  scan(options: { prefix?: string; limit?: number } = {}): { key: K; value: V }[] {
    return this.#reader().scan(options).rows as { key: K; value: V }[];
  }
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

function checkOptions(options: unknown, what: string, example: string): void {
  if (options === null || typeof options !== 'object' || options instanceof Stream) {
    throw new SluiceError('INVALID_ARGUMENT', `${what} options must be an object; write for example ${example}`);
  }
}

function numeric(kind: 'sum' | 'min' | 'max' | 'avg', of: (value: any) => number): AggregateSpec {
  checkFunction(of, `${kind}()`, `.${kind}((e) => e.amount)`);
  return { kind, of };
}

function reduceSpec(fn: (a: any, b: any) => any): AggregateSpec {
  checkFunction(fn, 'reduce()', '.reduce((a, b) => (a.amount > b.amount ? a : b))');
  return { kind: 'reduce', fn };
}

function aggregateSpec(
  init: () => unknown,
  add: (key: any, value: any, acc: any) => unknown,
  options: { merge?: unknown } = {},
): AggregateSpec & { kind: 'aggregate' } {
  checkFunction(init, 'aggregate() init', '.aggregate(() => 0, (key, order, total) => total + order.total)');
  checkFunction(add, 'aggregate() add', '.aggregate(() => 0, (key, order, total) => total + order.total)');
  if (options === null || typeof options !== 'object') {
    throw new SluiceError('INVALID_ARGUMENT', `aggregate() options must be an object, got ${String(options)}; write for example .aggregate(init, add, { name: 'hourly-order-totals' })`);
  }
  const { merge } = options;
  if (merge === undefined) return { kind: 'aggregate', init, add };
  checkFunction(merge, 'aggregate() merge', '.aggregate(() => 0, (key, order, total) => total + order.total, { merge: (a, b) => a + b })');
  return { kind: 'aggregate', init, add, merge: merge as (a: any, b: any) => unknown };
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

/**
 * The matches of a pattern on a keyed stream. `select`/`flatSelect` turn matches into values,
 * `timedOut` the partial matches that ran out of time (a second output stream); each match is
 * `{ stepName: events[] }`, every step present (empty when an optional step took none).
 * @example
 * const alerts = keyed.pattern(p).select((m) => m.buy[0]);
 * const expired = keyed.pattern(p).timedOut((m, at) => ({ user: m.login[0].user, at }));
 */
export class PatternStream<K, T> {
  readonly #builder: GraphBuilder;
  readonly #node: Omit<LogicalNodeOf<'pattern'>, 'id' | 'name'>;
  readonly #name: string | undefined;
  #id: NodeId | undefined;

  /** @internal Made by `KeyedStream.pattern()`. */
  constructor(builder: GraphBuilder, input: NodeId, pattern: Pattern<T>, options: PatternOptions) {
    checkOptions(options, 'pattern()', "{ skip: 'skipPastLastEvent' }");
    const { spec, warnings } = checkPattern(pattern);
    const time = options.time ?? 'event';
    if (time !== 'event' && time !== 'processing') throw new SluiceError('INVALID_ARGUMENT', `pattern() time ${JSON.stringify(time)} is not a time domain; write { time: 'event' } (default) or { time: 'processing' }`);
    const node: Omit<LogicalNodeOf<'pattern'>, 'id' | 'name'> = { kind: 'pattern', input, pattern: spec, skip: toSkipSpec(options.skip, options.skipTo, spec), time };
    if (options.ttl !== undefined) {
      const ttlMs = toMillis(options.ttl, 'pattern() ttl');
      if (!(ttlMs > 0)) throw new SluiceError('INVALID_ARGUMENT', `pattern() ttl must be a positive duration, got ${JSON.stringify(options.ttl)}; write { ttl: '1h' }`);
      node.ttlMs = ttlMs;
    } else {
      for (const warning of warnings) process.emitWarning(warning, { code: 'SLUICE_PATTERN_UNBOUNDED' });
    }
    this.#builder = builder;
    this.#node = node;
    this.#name = options.name;
  }

  /** Writes records too late to be matched (behind the watermark) to a topic instead of dropping them. */
  sideOutputLateData(topic: string): PatternStream<K, T> {
    checkTopic(topic, 'sideOutputLateData()');
    if (this.#id !== undefined) throw new SluiceError('INVALID_ARGUMENT', 'sideOutputLateData() goes before select(), flatSelect() and timedOut(); write keyed.pattern(p).sideOutputLateData(topic).select(fn)');
    if (this.#node.time === 'processing') throw new SluiceError('INVALID_ARGUMENT', 'a processing-time pattern sees no late records; drop sideOutputLateData() or match in event time');
    this.#node.lateSideOutput = topic;
    return this;
  }

  /** One value per match. */
  select<O>(fn: (match: PatternMatch<T>) => O, options: StageOptions = {}): Stream<O> {
    checkFunction(fn, 'select()', '.select((m) => ({ user: m.login[0].user }))');
    return new Stream(this.#builder, this.#builder.add({ kind: 'map', input: this.#patternNode(), fn }, options.name));
  }

  /** Zero or more values per match. */
  flatSelect<O>(fn: (match: PatternMatch<T>) => Iterable<O>, options: StageOptions = {}): Stream<O> {
    checkFunction(fn, 'flatSelect()', '.flatSelect((m) => m.tx.map((t) => t.id))');
    return new Stream(this.#builder, this.#builder.add({ kind: 'flatMap', input: this.#patternNode(), fn }, options.name));
  }

  /** One value per partial match that ran out of time (within), with the time it did. */
  timedOut<O>(fn: (partial: PatternMatch<T>, timeoutTimestamp: number) => O, options: StageOptions = {}): Stream<O> {
    checkFunction(fn, 'timedOut()', '.timedOut((m, at) => ({ user: m.login[0].user, at }))');
    if (this.#node.pattern.withinMs === undefined) throw new SluiceError('INVALID_ARGUMENT', "timedOut() reports partial matches that ran out of time, and the pattern has no within(); add .within('5m') to it");
    const side = this.#builder.add({ kind: 'side', input: this.#patternNode(), tag: PATTERN_TIMED_OUT });
    const map = (v: { match: PatternMatch<T>; timeoutAt: number }) => fn(v.match, v.timeoutAt);
    return new Stream(this.#builder, this.#builder.add({ kind: 'map', input: side, fn: map }, options.name));
  }

  /** The pattern operator's node, added on the first output asked for. */
  #patternNode(): NodeId {
    if (this.#id === undefined) this.#id = this.#builder.add({ ...this.#node }, this.#name);
    return this.#id;
  }
}

type LogicalNodeOf<K extends string> = Extract<LogicalNode, { kind: K }>;
