/**
 * The operator contract. An operator implements `process` and only the hooks it needs.
 * Operators inside a task are fused into direct calls over small batches: `process`
 * receives a batch and pushes results to `out` synchronously; no per-record promises.
 */
import type { SourcePosition } from '../core/errors.ts';

/**
 * One record flowing between operators. Never changed once emitted: where a stream fans out,
 * every branch reads the same element, so an operator emits a new element (`{ ...e, value }`)
 * rather than changing the one it was given.
 */
export interface Element<T = unknown> {
  value: T;
  /** Event time, epoch ms (processing time for processing-time pipelines). */
  timestamp: number;
  /** The grouping key after `keyBy` (a string, number, or JSON-able value). */
  key?: unknown;
  /**
   * The watermark of the record's own source partition just before this record (W_before of
   * DESIGN section 4). Carried through exchanges, so the lateness rule can be applied downstream.
   */
  sourceWatermark: number;
  /**
   * Source position, for dead letters and error messages. Read it with `positionOf`: elements
   * read from a source partition carry it as `origin` and `raw.offset` instead (no object per record).
   */
  source?: SourcePosition;
  /** The source partition the record was read from (one object per partition); the offset is `raw.offset`. */
  origin?: SourceOrigin;
  /** Original bytes of the source record (and its offset), kept only for the dead-letter path. */
  raw?: { key: Uint8Array | null; value: Uint8Array | null; offset?: number };
}

/** A source partition, shared by the elements read from it. */
export interface SourceOrigin {
  topic: string;
  partition: number;
}

/** `{ position }` for a SluiceError's details, or nothing when the element has no position. */
export function positionField(element: Element): { position?: SourcePosition } {
  const position = positionOf(element);
  return position === undefined ? {} : { position };
}

/** `{ source }` for an element copied without its origin (a snapshot), or nothing. */
export function sourceField(element: Element): { source?: SourcePosition } {
  const source = positionOf(element);
  return source === undefined ? {} : { source };
}

/** The element's source position: `source`, or made from `origin` and the raw record's offset. */
export function positionOf(element: Element | undefined): SourcePosition | undefined {
  if (element === undefined) return undefined;
  if (element.source !== undefined) return element.source;
  const { origin, raw } = element;
  return origin !== undefined && raw?.offset !== undefined ? { topic: origin.topic, partition: origin.partition, offset: raw.offset } : undefined;
}

/** Where an operator sends its results. */
export interface Output<O = unknown> {
  emit(element: Element<O>): void;
  /** A named side output (late data, user side outputs). */
  side(tag: string, element: Element<unknown>): void;
}

/**
 * One step of a fused chain of stateless operators: the current value, with the element the
 * chain was given (its time, key, source position). A step builds no element of its own: the
 * chain's end makes one, and only when the value changed (elements are never changed).
 */
export type FusedStep = (value: unknown, from: Element) => void;

/** Records in and out per operator index of a task (its metrics), counted by fused steps. */
export interface StepCounters {
  in: number[];
  out: number[];
}

/** Counters for a step run on its own (an operator's `process`): nobody reads them. */
export const uncounted: StepCounters = { in: [0], out: [0] };

/**
 * A stateless operator a task may fuse with its neighbours: `fuse` returns the step that runs
 * the operator on one value and calls `next` with each result, counting at `counters[index]`.
 */
export interface FusableOperator {
  fuse(next: FusedStep, counters: StepCounters, index: number): FusedStep;
  /** The run's input for now is through (a batch, a watermark's firings): hand on what the steps collected (a sink's records). */
  endRun?(): void;
}

/**
 * The record a task's source is decoding, as the element a fused run reads: one object per
 * task, re-pointed at each record, so a record the run drops costs no element. It never leaves
 * the run: `withValue` and the exchanges copy it into an element of its own.
 */
export class RecordCursor implements Element {
  value: unknown = undefined;
  timestamp = 0;
  key: unknown = undefined;
  sourceWatermark = Number.NEGATIVE_INFINITY;
  origin: SourceOrigin | undefined = undefined;
  raw: Element['raw'] = undefined;

  /** The record as an element of its own, with `value` (and `key`). */
  copy(value: unknown, key: unknown = this.key): Element {
    return { value, timestamp: this.timestamp, key, sourceWatermark: this.sourceWatermark, origin: this.origin, raw: this.raw };
  }
}

/** The element `from` with `value`: `from` itself when the value is the same (never a cursor, which is copied). */
export function withValue(from: Element, value: unknown): Element {
  if (from instanceof RecordCursor) return from.copy(value);
  return value === from.value ? from : { ...from, value };
}

/** The element `from` with `value` and `key`: what an exchange hands to the key's task. */
export function withKey(from: Element, value: unknown, key: unknown): Element {
  if (from instanceof RecordCursor) return from.copy(value, key);
  return { ...from, value, key };
}

export interface OperatorContext {
  /** Stable operator name: state, metrics and checkpoints are keyed by it. */
  readonly name: string;
  /** Current processing time, from the runtime's clock (a manual clock in tests). */
  now(): number;
}

export interface Operator<I = unknown, O = unknown> {
  readonly name: string;
  process(batch: Element<I>[], out: Output<O>): void;
  /** The operator's input watermark advanced to `watermark`; fire what is complete. Returns the watermark to forward. */
  onWatermark?(watermark: number, out: Output<O>): number;
  /** Processing time advanced (processing-time windows, processing-time timers). */
  onProcessingTime?(now: number, out: Output<O>): void;
  /** Serializable state for a checkpoint. */
  snapshot?(): unknown;
  restore?(snapshot: unknown): void;
  /**
   * Restores the last checkpoint of a bounded run (every window fired at watermark +Infinity)
   * into a new run: what the end of the input does not finish, a table's rows, without the
   * watermark. Operators without it (windows, timers) start the new run empty.
   */
  restoreEnded?(snapshot: unknown): void;
  /** A checkpoint is about to be taken: a sink may add to its output (complete mode writes its whole table). */
  beforeCheckpoint?(): void;
  close?(): void;
  /** Records taken in and not yet emitted (async I/O): a bounded run waits for them. */
  pending?(): number;
  /** The operator wants no more input now (a full async queue): the job pauses its sources. */
  saturated?(): boolean;
}
