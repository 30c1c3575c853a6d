/**
 * The user-facing shape of keyed process functions: per-key state and timers, as Flink's
 * KeyedProcessFunction. The runtime hands a context of this shape to the user's function.
 */
import type { Duration } from '../core/index.ts';

/** One value per key. */
export interface ValueState<S> {
  value(): S | undefined;
  update(value: S): void;
  clear(): void;
}

/** A list per key. */
export interface ListState<S> {
  get(): readonly S[];
  add(value: S): void;
  update(values: S[]): void;
  clear(): void;
}

/** A map per key. */
export interface MapState<MK, MV> {
  get(key: MK): MV | undefined;
  has(key: MK): boolean;
  set(key: MK, value: MV): void;
  delete(key: MK): void;
  entries(): [MK, MV][];
  clear(): void;
}

/**
 * Options of a keyed state. `ttl`: the state expires that long (processing time) after its last
 * write and then reads as absent (Flink's OnCreateAndWrite, NeverReturnExpired).
 */
export interface StateOptions {
  ttl?: Duration;
}

/**
 * Keyed state of the current key, by state name.
 * @example const seen = ctx.state.value<number>('seen', { ttl: '1h' });
 */
export interface KeyedState {
  value<S>(name: string, options?: StateOptions): ValueState<S>;
  list<S>(name: string, options?: StateOptions): ListState<S>;
  map<MK, MV>(name: string, options?: StateOptions): MapState<MK, MV>;
}

/** Timers of the current key. Event-time timers fire when the watermark reaches their time. */
export interface Timers {
  registerEventTime(timestamp: number): void;
  deleteEventTime(timestamp: number): void;
  registerProcessingTime(timestamp: number): void;
  deleteProcessingTime(timestamp: number): void;
}

export interface ProcessContext<K, O> {
  readonly key: K;
  /** Event time of the current record, or the time of the firing timer. */
  readonly timestamp: number;
  /** The operator's current watermark. */
  readonly watermark: number;
  /** Current processing time. */
  now(): number;
  readonly state: KeyedState;
  readonly timers: Timers;
  /** Emits a result downstream, at the current timestamp. */
  emit(value: O): void;
  /** Emits to a named side output, read with `.sideOutput(tag)`. */
  output(tag: string, value: unknown): void;
}

/**
 * A keyed process function.
 * @example
 * keyed.process<string>({
 *   processElement(tx, ctx) {
 *     const avg = ctx.state.value<number>('avg');
 *     if ((avg.value() ?? Infinity) * 10 < tx.amount) ctx.emit(`suspicious ${tx.id}`);
 *   },
 * });
 */
export interface ProcessFunction<K, T, O> {
  processElement(value: T, ctx: ProcessContext<K, O>): void;
  onTimer?(timestamp: number, ctx: ProcessContext<K, O> & { readonly timeDomain: 'event' | 'processing' }): void;
}
