/**
 * `Stream<T>`, the first stage of a pipeline: stateless transforms, keyBy, union, window joins
 * and sinks. `keyBy()` makes a KeyedStream, which extends Stream: keyed-stream.ts imports this
 * file, so it hands in how to make one (as this file does for join.ts's results).
 */
import { type Codec, SluiceError, toMillis } from '../core/index.ts';
import { checkCodec, checkFunction, checkName, checkTopic, type GraphBuilder } from './builder.ts';
import { isSink, missingSinkHooks, type Sink } from './connector.ts';
import type { NodeId } from './graph.ts';
import { JoinedStreams } from './join.ts';
import type { MapAsyncOptions, StageOptions } from './stage-options.ts';

declare module './join.ts' {
  /** Join results are Streams (see join.ts: it cannot import this file). */
  interface JoinStreamTypes<O> {
    stream: Stream<O>;
  }
}

/**
 * The stages a Stream makes but cannot import, filled in through declaration merging by the
 * files that define them (`keyed: KeyedStream<K, T>`), as join.ts's JoinStreamTypes is here.
 */
export interface StreamStageTypes<K, T> {
  /** @internal The type parameters, to name them here; never set. */
  readonly parameters?: [K, T];
}

/** The stream `keyBy()` returns: a `KeyedStream<K, T>`. */
export type KeyedStreamOf<K, T> = StreamStageTypes<K, T> extends { keyed: infer S } ? S : never;

type KeyedStreamFactory = (builder: GraphBuilder, node: NodeId) => unknown;
let makeKeyedStream: KeyedStreamFactory | undefined;

/** @internal keyed-stream.ts hands in, once as it loads, how `keyBy()` makes a KeyedStream. */
export function setKeyedStreamFactory(make: KeyedStreamFactory): void {
  makeKeyedStream = make;
}

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
  keyBy<K>(fn: (value: T) => K, options: StageOptions = {}): KeyedStreamOf<K, T> {
    checkFunction(fn, 'keyBy()', '.keyBy((e) => e.url)');
    if (makeKeyedStream === undefined) throw new Error('keyBy(): keyed-stream.ts was not loaded; import the stages from stream.ts');
    return makeKeyedStream(this.builder, this.builder.add({ kind: 'keyBy', input: this.nodeId, fn }, options.name)) as KeyedStreamOf<K, T>;
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

/** @internal Options must be an object (and not a stream: a forgotten argument before them). */
export function checkOptions(options: unknown, what: string, example: string): void {
  if (options === null || typeof options !== 'object' || options instanceof Stream) {
    throw new SluiceError('INVALID_ARGUMENT', `${what} options must be an object; write for example ${example}`);
  }
}
