/** `PatternStream<K, T>`: the matches of a pattern (CEP) on a keyed stream, and those that timed out. */
import { SluiceError, toMillis } from '../core/index.ts';
import { checkFunction, checkTopic, type GraphBuilder } from './builder.ts';
import type { LogicalNode, NodeId } from './graph.ts';
import { checkPattern, type Pattern, toSkipSpec } from './pattern.ts';
import { PATTERN_TIMED_OUT, type PatternMatch, type PatternOptions } from './pattern-spec.ts';
import type { StageOptions } from './stage-options.ts';
import { checkOptions, Stream } from './stream-stage.ts';

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
