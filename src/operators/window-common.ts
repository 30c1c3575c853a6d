/**
 * Pieces shared by the window engines: result shape, key identity, and the emitter that turns
 * fired windows into output elements and reports the ones user code failed to compute.
 */
import { SluiceError } from '../core/errors.ts';
import type { AggregateFunction } from './aggregate-function.ts';
import { type Element, type Output, positionOf } from './operator.ts';
import { describeKey, type RecordErrorHandler } from './record-error.ts';
import type { KeyedTable, KeyIdValue } from '../state/index.ts';

/** What a window emits: `{ key, start, end, value }` (JSON in topics). */
export interface WindowResult<R = unknown> {
  key: unknown;
  start: number;
  end: number;
  value: R;
}

/** A key's identity in tables and timers (the state backend's `keyId`). */
export type KeyId = KeyIdValue;

/**
 * Sends window results to the current output. The operator points `out` at the output of the
 * call in progress (process, onWatermark, onProcessingTime).
 */
export class Emitter {
  out: Output<WindowResult> | undefined;
  /**
   * The watermark downstream has seen before these results: the operator's previous watermark
   * while it fires on a new one, so a result stamped `end - 1` is on time for a downstream window.
   */
  forwarded = Number.NEGATIVE_INFINITY;
  lateRecords = 0;
  emitted = 0;
  private readonly lateSideOutput: string | undefined;
  private readonly operator: string;
  private readonly onError: RecordErrorHandler;

  constructor(operator: string, lateSideOutput: string | undefined, onError: RecordErrorHandler) {
    this.operator = operator;
    this.lateSideOutput = lateSideOutput;
    this.onError = onError;
  }

  /** Emits one window result. `timestamp` defaults to `end - 1`, the last instant of the window. */
  result(key: unknown, start: number, end: number, value: unknown, timestamp = end - 1): void {
    this.emitted++;
    this.out!.emit({ value: { key, start, end, value }, timestamp, key, sourceWatermark: this.forwarded });
  }

  /**
   * User code threw while computing a fired window's value (its aggregate's result, merge or
   * add): the window is reported to the error handler as a record of its own, `{ key, start,
   * end }` at `timestamp`, so dead-letter mode writes it to the dead-letter topic and goes on.
   */
  failed(key: unknown, start: number, end: number, cause: unknown, timestamp = end - 1): void {
    const element: Element = { value: { key, start, end }, timestamp, key, sourceWatermark: this.forwarded };
    this.onError(element, userFailure(this.operator, undefined, cause, `window [${start}, ${end}) of key ${describeKey(key)}`), this.operator);
  }

  /** A record that contributes to no window: counted, and sent to the late side output when one is set. */
  late(element: Element): void {
    this.lateRecords++;
    if (this.lateSideOutput !== undefined) this.out!.side(this.lateSideOutput, element);
  }
}

/** Shared settings every engine reads. */
export interface EngineContext {
  readonly aggregate: AggregateFunction;
  readonly emitter: Emitter;
  /** Allowed lateness in ms (0 for processing-time windows, which cannot see late records). */
  readonly latenessMs: number;
  /** Emit an early update after this many contributions to a window not yet fired (early-count), else 0. */
  readonly earlyEvery: number;
  /** Where the time-based engines keep each key's windows (default the heap). */
  readonly table?: KeyedTable<any> | undefined;
  /** Beside a durable `table`: the time index that keeps the keys' timers on disk (timer-index.ts). */
  readonly timerIndex?: KeyedTable<any> | undefined;
  /** Timers the heap holds at most with a time index (default timer-index.ts HEAP_TIMERS). */
  readonly timerHeapLimit?: number | undefined;
}

/** One kind of window, run for every key. */
export interface WindowEngine {
  /**
   * Takes one record of key `key`. `ts` is its time in the window's domain, `wBefore` the
   * watermark of its own source partition just before it (-Infinity in processing time).
   */
  add(element: Element, key: unknown, ts: number, wBefore: number): void;
  /** Time (watermark, or processing time) advanced to `progress`: fire and clean up what it completes. */
  advance(progress: number): void;
  /** Early-interval firing: emit updates of windows that changed since their last emission. */
  emitEarly(): void;
  /** The current value of every window held, for `key` or, with `allKeys`, for every key. */
  query(key: unknown, allKeys: boolean): WindowResult[];
  snapshot(): unknown;
  /** Rebuilds state from `snapshot()`; `progress` is the time the snapshot was taken at. */
  restore(state: unknown, progress: number): void;
}

/** User code's exception as a USER_FUNCTION_FAILED error that names the operator and the record, or `what` failed. */
export function userFailure(operator: string, element: Element | undefined, cause: unknown, what?: string): SluiceError {
  if (cause instanceof SluiceError) return cause;
  const position = positionOf(element);
  const where = position ? ` at ${position.topic}/${position.partition}@${position.offset}` : what === undefined ? '' : ` computing ${what}`;
  const message = cause instanceof Error ? cause.message : String(cause);
  return new SluiceError('USER_FUNCTION_FAILED', `window aggregate of '${operator}' threw${where}: ${message}`, {
    cause,
    operator,
    ...(position ? { position } : {}),
  });
}

/**
 * A number as snapshots before the one JSON encoding (core's infinity marks) held it: `'inf'`
 * and `'-inf'` for infinities. Restores read both, so older checkpoints and savepoints restore.
 */
export function savedNumber(n: number | string): number {
  return n === 'inf' ? Number.POSITIVE_INFINITY : n === '-inf' ? Number.NEGATIVE_INFINITY : (n as number);
}
