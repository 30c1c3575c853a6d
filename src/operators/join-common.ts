/**
 * What both stream-stream joins share: the record as they hold it (side, time, a tie-break of
 * source position, value), the order they take records in, and the error a join function's
 * failure becomes.
 */
import { SluiceError } from '../core/errors.ts';
import { type Element, positionOf } from './operator.ts';
import { describeKey } from './record-error.ts';

/** The input sides, as the tagging maps of the api (api/two-input.ts) write them. */
export const LEFT = 0;
export const RIGHT = 1;

/** A joined input record, `{ side, value }` as the tagging maps made it. */
export interface SidedValue {
  side: number;
  value: unknown;
}

/** A record a join holds: its side, event time, order among records of one time, and value. Plain data (it is checkpointed). */
export interface HeldRecord {
  s: number;
  t: number;
  /** Tie-break among records of one time and side: the source position, else arrival order. */
  o: string;
  v: unknown;
}

/**
 * The tie-break of a record: its source position (topic, partition, offset), which is the same
 * whatever the batching; a record made by an earlier stateful stage has none, then `arrival`.
 */
export function orderOf(element: Element, arrival: number): string {
  const source = positionOf(element);
  if (source === undefined) return `~${String(arrival).padStart(16, '0')}`;
  return `${source.topic}\u0000${String(source.partition).padStart(6, '0')}\u0000${String(source.offset).padStart(16, '0')}`;
}

/** Event-time order of held records: time, then left before right, then the tie-break. */
export function byTime(a: HeldRecord, b: HeldRecord): number {
  return a.t - b.t || a.s - b.s || (a.o < b.o ? -1 : a.o > b.o ? 1 : 0);
}

/** Whether a value is a record of the tagging maps. */
export function isSided(value: unknown): value is SidedValue {
  return value !== null && typeof value === 'object' && ((value as SidedValue).side === LEFT || (value as SidedValue).side === RIGHT) && 'value' in value;
}

/** The error an input that did not come through the join's tagging maps becomes. */
export function notSided(operator: string): SluiceError {
  return new SluiceError('INVALID_RECORD', `join '${operator}' got a record without its side; a join reads the keyed union its builder makes (a.join(b)... or a.keyBy(f).intervalJoin(b.keyBy(g))...)`, { operator });
}

/** The join function threw on a pair: USER_FUNCTION_FAILED, naming the operator, key and times. */
export function joinFailure(operator: string, key: unknown, left: number | null, right: number | null, cause: unknown): SluiceError {
  if (cause instanceof SluiceError) return cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  return new SluiceError('USER_FUNCTION_FAILED', `join function of '${operator}' threw for key ${describeKey(key)} (left at ${String(left)}, right at ${String(right)}): ${message}`, { cause, operator });
}
