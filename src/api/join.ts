/**
 * The stream-stream joins of the DSL, as Flink spells them:
 *
 * - window join: `a.join(b).where(f).equalTo(g).window(Windows.tumbling('1m')).apply((x, y) => out)`,
 *   every pair of one key in one window, stamped `end - 1`;
 * - interval join: `a.keyBy(f).intervalJoin(b.keyBy(g)).between('-10m', '10m').process((l, r) => out)`,
 *   the pairs with `l.ts + lower <= r.ts <= l.ts + upper`, stamped with the later of the two.
 *
 * Each builder only records nodes: both inputs tagged with their side, merged and keyed once
 * (two-input.ts), then the join node. The result is made a Stream by a factory stream-stage.ts and
 * keyed-stream.ts hand in, so this file does not import them (they import it).
 */
import { type Duration, SluiceError, toMillis } from '../core/index.ts';
import type { LatenessSpec, WindowSpec } from '../time/index.ts';
import { checkFunction, checkName, checkTopic, type GraphBuilder } from './builder.ts';
import type { IntervalBounds, JoinType, NodeId } from './graph.ts';
import { connectInputs, type KeyedInput, keyedInput } from './two-input.ts';
import { type WindowArgument, toWindowSpec } from './window-argument.ts';

/**
 * The stream types a join returns, filled in by stream-stage.ts through declaration merging
 * (`stream: Stream<O>`), so this file names `Stream<O>` without importing it.
 */
export interface JoinStreamTypes<O> {
  /** @internal The result type, to name it here; never set. */
  readonly output?: O;
}

/** The stream a join's results form: a `Stream<O>`. */
export type JoinedStream<O> = JoinStreamTypes<O> extends { stream: infer S } ? S : never;

/** How a builder turns the join node into the stream of its results. */
export type StreamFactory = <O>(node: NodeId) => JoinedStream<O>;

/** Options of the last step of a join: a stable name for its state, metrics and errors. */
export interface JoinOptions {
  name?: string;
}

/** A duration that may be negative: `'-10m'`, `-600000`, or a Duration. */
export type SignedDuration = Duration | `-${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

/** Milliseconds of a signed duration; `what` names it in the error. */
export function toSignedMillis(duration: SignedDuration, what: string): number {
  if (typeof duration === 'number') {
    if (!Number.isFinite(duration)) throw new SluiceError('INVALID_ARGUMENT', `${what}: must be a finite number of milliseconds, got ${duration}; write for example '-10m' or -600000`);
    return Math.sign(duration) * toMillis(Math.abs(duration), what);
  }
  if (typeof duration === 'string' && duration.trim().startsWith('-')) return -toMillis(duration.trim().slice(1) as Duration, what);
  return toMillis(duration as Duration, what);
}

/** A join's name: the one given, or one derived from its position in the graph (stable across runs). */
function joinName(builder: GraphBuilder, options: JoinOptions, kind: string, example: string): string {
  if (options === null || typeof options !== 'object') throw new SluiceError('INVALID_ARGUMENT', `${kind} options must be an object; write for example ${example}`);
  if (options.name !== undefined) {
    checkName(options.name);
    return options.name;
  }
  return `${kind}-${builder.graph.nodes.length}`;
}

/**
 * `a.join(b)`: a window join of two streams, keyed by `where` (left) and `equalTo` (right).
 * @example
 * impressions.join(clicks).where((i) => i.adId).equalTo((c) => c.adId).window(Windows.tumbling('1m')).apply((i, c) => ({ ad: i.adId, user: c.user }));
 */
export class JoinedStreams<L, R> {
  readonly #builder: GraphBuilder;
  readonly #left: NodeId;
  readonly #right: NodeId;
  readonly #make: StreamFactory;

  /** @internal Made by `Stream.join()`. */
  constructor(builder: GraphBuilder, left: NodeId, right: NodeId, make: StreamFactory) {
    this.#builder = builder;
    this.#left = left;
    this.#right = right;
    this.#make = make;
  }

  /** The key of a left record. */
  where<K>(key: (left: L) => K): JoinWhere<L, R, K> {
    checkFunction(key, 'join().where()', '.where((i) => i.adId)');
    return new JoinWhere(this.#builder, { node: this.#left, key }, this.#right, this.#make);
  }
}

export class JoinWhere<L, R, K> {
  readonly #builder: GraphBuilder;
  readonly #left: KeyedInput;
  readonly #right: NodeId;
  readonly #make: StreamFactory;

  /** @internal */
  constructor(builder: GraphBuilder, left: KeyedInput, right: NodeId, make: StreamFactory) {
    this.#builder = builder;
    this.#left = left;
    this.#right = right;
    this.#make = make;
  }

  /** The key of a right record; pairs have equal keys. */
  equalTo(key: (right: R) => K): JoinEqualTo<L, R> {
    checkFunction(key, 'join().equalTo()', '.equalTo((c) => c.adId)');
    return new JoinEqualTo(this.#builder, this.#left, { node: this.#right, key }, this.#make);
  }
}

export class JoinEqualTo<L, R> {
  readonly #builder: GraphBuilder;
  readonly #left: KeyedInput;
  readonly #right: KeyedInput;
  readonly #make: StreamFactory;

  /** @internal */
  constructor(builder: GraphBuilder, left: KeyedInput, right: KeyedInput, make: StreamFactory) {
    this.#builder = builder;
    this.#left = left;
    this.#right = right;
    this.#make = make;
  }

  /** The windows pairs must share: tumbling, hopping, sliding or session windows in event time. */
  window(window: WindowArgument): WindowedJoin<L, R> {
    const spec = toWindowSpec(window);
    if (spec.kind === 'global' || spec.kind === 'count-tumbling' || spec.kind === 'count-sliding') {
      throw new SluiceError('INVALID_ARGUMENT', `a window join needs time windows (its results carry the window's end - 1), not ${spec.kind} windows; write .window(Windows.tumbling('1m')), Windows.hopping('1m', '20s') or Windows.session('30s')`);
    }
    if (spec.time === 'processing') {
      throw new SluiceError('INVALID_ARGUMENT', "a window join runs on event time, so its pairs do not depend on timing; drop { time: 'processing' }");
    }
    return new WindowedJoin(this.#builder, this.#left, this.#right, spec, { allowedLatenessMs: 0 }, this.#make);
  }
}

export class WindowedJoin<L, R> {
  readonly #builder: GraphBuilder;
  readonly #left: KeyedInput;
  readonly #right: KeyedInput;
  readonly #window: WindowSpec;
  readonly #lateness: LatenessSpec;
  readonly #make: StreamFactory;

  /** @internal */
  constructor(builder: GraphBuilder, left: KeyedInput, right: KeyedInput, window: WindowSpec, lateness: LatenessSpec, make: StreamFactory) {
    this.#builder = builder;
    this.#left = left;
    this.#right = right;
    this.#window = window;
    this.#lateness = lateness;
    this.#make = make;
  }

  /** Writes records too late for every one of their windows to a topic instead of dropping them. */
  sideOutputLateData(topic: string): WindowedJoin<L, R> {
    checkTopic(topic, 'sideOutputLateData()');
    return new WindowedJoin(this.#builder, this.#left, this.#right, this.#window, { ...this.#lateness, lateSideOutput: topic }, this.#make);
  }

  /**
   * Emits `fn(left, right)` for every pair of one key in one window, stamped `end - 1`, when the
   * window fires; `undefined` emits nothing.
   */
  apply<O>(fn: (left: L, right: R) => O | undefined, options: JoinOptions = {}): JoinedStream<O> {
    checkFunction(fn, 'join().apply()', '.apply((i, c) => ({ ad: i.adId, user: c.user }))');
    const name = joinName(this.#builder, options, 'windowJoin', "{ name: 'ads-with-clicks' }");
    const sides = { left: this.#builder.node(this.#left.node).name, right: this.#builder.node(this.#right.node).name };
    const input = connectInputs(this.#builder, this.#left, this.#right, name);
    const node = this.#builder.add({ kind: 'windowJoin', input, window: this.#window, lateness: this.#lateness, fn, sides }, name);
    return this.#make<O>(node);
  }
}

/** Options of `intervalJoin()`: which unmatched records are emitted too (with null for the missing side). */
export interface IntervalJoinOptions {
  type?: JoinType;
}

/** What the interval join's function gets besides the pair. */
export interface IntervalJoinContext<K> {
  key: K;
  /** The result's event time: the later of the two records' (an unmatched record's own). */
  timestamp: number;
  /** Event time of the left record, null when it is missing (outer join). */
  leftTimestamp: number | null;
  rightTimestamp: number | null;
}

/**
 * `a.keyBy(f).intervalJoin(b.keyBy(g))`: pairs of one key whose times are within bounds of each other.
 * @example
 * impressions.keyBy((i) => i.adId).intervalJoin(clicks.keyBy((c) => c.adId)).between('-10m', '10m')
 *   .process((i, c) => ({ ad: i.adId, timeToClick: c.ts - i.ts }));
 */
export class IntervalJoin<K, L, R> {
  readonly #builder: GraphBuilder;
  readonly #left: NodeId;
  readonly #right: NodeId;
  readonly #type: JoinType;
  readonly #make: StreamFactory;

  /** @internal Made by `KeyedStream.intervalJoin()`. */
  constructor(builder: GraphBuilder, left: NodeId, right: NodeId, options: IntervalJoinOptions, make: StreamFactory) {
    if (options === null || typeof options !== 'object') throw new SluiceError('INVALID_ARGUMENT', "intervalJoin() options must be an object; write for example { type: 'left' }");
    const type = options.type ?? 'inner';
    if (type !== 'inner' && type !== 'left' && type !== 'outer') {
      throw new SluiceError('INVALID_ARGUMENT', `intervalJoin() type ${JSON.stringify(type)} is not a join type; write { type: 'inner' }, { type: 'left' } or { type: 'outer' }`);
    }
    // Fail where the join is written when an input is not keyed.
    keyedInput(builder, left, 'intervalJoin()');
    keyedInput(builder, right, 'intervalJoin()');
    this.#builder = builder;
    this.#left = left;
    this.#right = right;
    this.#type = type;
    this.#make = make;
  }

  /**
   * The bounds, relative to the left record's time: `left.ts + lower <= right.ts <= left.ts + upper`.
   * @example .between('-10m', '10m')
   */
  between(lower: SignedDuration, upper: SignedDuration): IntervalJoinBetween<K, L, R> {
    const lowerMs = toSignedMillis(lower, 'between() lower bound');
    const upperMs = toSignedMillis(upper, 'between() upper bound');
    if (lowerMs > upperMs) {
      throw new SluiceError('INVALID_ARGUMENT', `between(${JSON.stringify(lower)}, ${JSON.stringify(upper)}): the lower bound is above the upper one, so nothing could match; write for example .between('-10m', '10m')`);
    }
    const bounds: IntervalBounds = { lowerMs, upperMs, lowerExclusive: false, upperExclusive: false };
    return new IntervalJoinBetween(this.#builder, this.#left, this.#right, this.#type, bounds, { allowedLatenessMs: 0 }, this.#make);
  }
}

export class IntervalJoinBetween<K, L, R> {
  readonly #builder: GraphBuilder;
  readonly #left: NodeId;
  readonly #right: NodeId;
  readonly #type: JoinType;
  readonly #bounds: IntervalBounds;
  readonly #lateness: LatenessSpec;
  readonly #make: StreamFactory;

  /** @internal */
  constructor(builder: GraphBuilder, left: NodeId, right: NodeId, type: JoinType, bounds: IntervalBounds, lateness: LatenessSpec, make: StreamFactory) {
    this.#builder = builder;
    this.#left = left;
    this.#right = right;
    this.#type = type;
    this.#bounds = bounds;
    this.#lateness = lateness;
    this.#make = make;
  }

  #with(bounds: Partial<IntervalBounds>, lateness: Partial<LatenessSpec> = {}): IntervalJoinBetween<K, L, R> {
    const next = { ...this.#bounds, ...bounds };
    const lower = next.lowerMs + (next.lowerExclusive ? 1 : 0);
    const upper = next.upperMs - (next.upperExclusive ? 1 : 0);
    if (lower > upper) {
      throw new SluiceError('INVALID_ARGUMENT', `between(${next.lowerMs}ms, ${next.upperMs}ms) with exclusive bounds holds no time, so nothing could match; widen the bounds or keep them inclusive`);
    }
    return new IntervalJoinBetween(this.#builder, this.#left, this.#right, this.#type, next, { ...this.#lateness, ...lateness }, this.#make);
  }

  /** `left.ts + lower < right.ts`: the lower bound itself does not match. */
  lowerBoundExclusive(): IntervalJoinBetween<K, L, R> {
    return this.#with({ lowerExclusive: true });
  }

  /** `right.ts < left.ts + upper`: the upper bound itself does not match. */
  upperBoundExclusive(): IntervalJoinBetween<K, L, R> {
    return this.#with({ upperExclusive: true });
  }

  /** Writes records later than the watermark to a topic instead of dropping them. */
  sideOutputLateData(topic: string): IntervalJoinBetween<K, L, R> {
    checkTopic(topic, 'sideOutputLateData()');
    return this.#with({}, { lateSideOutput: topic });
  }

  /**
   * Emits `fn(left, right, ctx)` for every pair, stamped with the later record's time; with
   * `{ type: 'left' | 'outer' }`, also each unmatched record once, with null for the other side,
   * when the watermark passes the end of its interval. `undefined` emits nothing.
   */
  process<O>(fn: (left: L, right: R, ctx: IntervalJoinContext<K>) => O | undefined, options: JoinOptions = {}): JoinedStream<O> {
    checkFunction(fn, 'intervalJoin().process()', '.process((impression, click) => ({ timeToClick: click.ts - impression.ts }))');
    const name = joinName(this.#builder, options, 'intervalJoin', "{ name: 'time-to-click' }");
    const left = keyedInput(this.#builder, this.#left, 'intervalJoin()');
    const right = keyedInput(this.#builder, this.#right, 'intervalJoin()');
    const sides = { left: this.#builder.node(left.node).name, right: this.#builder.node(right.node).name };
    const input = connectInputs(this.#builder, left, right, name);
    const node = this.#builder.add({ kind: 'intervalJoin', input, bounds: this.#bounds, type: this.#type, lateness: this.#lateness, fn, sides }, name);
    return this.#make<O>(node);
  }
}
