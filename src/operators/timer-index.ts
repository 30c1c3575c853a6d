/**
 * Timers on disk: a durable time index (a table whose ids sort by time, then by a sequence
 * number) and a heap queue that holds only its earliest entries, up to a horizon. Past
 * `heapLimit` entries in the heap the later ones leave it (the index has them); when the heap
 * has run out the next slice is read from the index, changes since the last checkpoint
 * included. So a keyed operator with millions of keys waiting on a timer needs the heap of its
 * earliest few thousand. The index also keeps the next sequence number (entry `~seq`), so a
 * restore breaks ties as the uninterrupted run did without reading every key.
 */
import type { KeyedTable, KeyIdValue } from '../state/index.ts';
import { TimerQueue } from './timer-queue.ts';

/** An entry of a time index: [time, seq, key or key id]. */
export type IndexedTimer = [number, number, unknown];

/** A table read in id order, changes since the last checkpoint included (lmdb-table.ts). */
export interface OrderedTable<V> extends KeyedTable<V> {
  scanWithChanges(after: string, limit: number): [KeyIdValue, V][];
}

export function isOrderedTable<V>(table: KeyedTable<V> | undefined): table is OrderedTable<V> {
  return table?.durable === true && typeof (table as Partial<OrderedTable<V>>).scanWithChanges === 'function';
}

/** Entries the heap of one queue holds at most before the later half goes back to disk. */
export const HEAP_TIMERS = 50_000;

/** The id under which the index keeps its next sequence number: after every time. */
const SEQ_ID = '~seq';

const FLOAT = new DataView(new ArrayBuffer(8));

/** 16 hex digits that sort as the numbers do (the IEEE 754 bits, sign flipped, negatives inverted). */
function orderedHex(time: number): string {
  FLOAT.setFloat64(0, time);
  let hi = FLOAT.getUint32(0);
  let lo = FLOAT.getUint32(4);
  if (hi & 0x80000000) {
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
  } else hi = (hi | 0x80000000) >>> 0;
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/** The index id of a timer: its time, then its sequence number, as text in that order. */
export function indexId(time: number, seq: number): string {
  return orderedHex(time) + seq.toString(16).padStart(14, '0');
}

/** An id after every timer at `time` and before every later one ('' before them all). */
export function afterTime(time: number): string {
  return time === Number.NEGATIVE_INFINITY ? '' : `${orderedHex(time)}g`;
}

/**
 * The slice of `index` after `after`: about `count` timers, and the rest of the last one's time
 * with them (a horizon never splits a time). Whether it holds every timer left.
 */
export function readSlice(index: OrderedTable<IndexedTimer>, after: string, count: number): { slice: IndexedTimer[]; all: boolean } {
  const slice = index.scanWithChanges(after, count).filter(([id]) => id !== SEQ_ID).map(([, entry]) => entry);
  if (slice.length < count) return { slice, all: true };
  const last = slice[slice.length - 1][0];
  for (;;) {
    const more = index.scanWithChanges(indexId(last, slice[slice.length - 1][1]), 1000).filter(([id]) => id !== SEQ_ID);
    const same = more.filter(([, [time]]) => time === last);
    for (const [, entry] of same) slice.push(entry);
    if (same.length < more.length) return { slice, all: false };
    if (more.length < 1000) return { slice, all: true };
  }
}

/**
 * A timer queue of (time, seq, key id) entries over a durable time index: `push` writes the
 * index, `remove` deletes an entry from it (a heap entry may stay, stale, for the caller to
 * skip, as with TimerQueue), `pop` consumes the earliest.
 */
export class TimeIndexQueue {
  readonly #queue = new TimerQueue();
  readonly #index: OrderedTable<IndexedTimer>;
  readonly #heapLimit: number;
  /** Every entry at or before this time is in the heap; later ones only in the index (-Infinity: none read yet). */
  #horizon = Number.POSITIVE_INFINITY;

  constructor(index: OrderedTable<IndexedTimer>, heapLimit = HEAP_TIMERS) {
    this.#index = index;
    this.#heapLimit = Math.max(2, heapLimit);
  }

  push(time: number, seq: number, id: KeyIdValue): void {
    this.#index.set(indexId(time, seq), [time, seq, id]);
    if (time > this.#horizon) return;
    this.#queue.push(time, seq, id);
    if (this.#queue.size > this.#heapLimit) this.#spill();
  }

  remove(time: number, seq: number): void {
    this.#index.delete(indexId(time, seq));
  }

  /** The earliest time queued (reading the next slice when the heap is empty), or +Infinity. */
  peek(): number {
    if (this.#queue.size === 0 && this.#horizon !== Number.POSITIVE_INFINITY) this.#refill();
    return this.#queue.peek();
  }

  /** Removes the earliest entry and returns its key id; call after `peek()` gave a finite time or one due. */
  pop(): KeyIdValue {
    const time = this.#queue.peek();
    const seq = this.#queue.peekSeq();
    this.#index.delete(indexId(time, seq));
    return this.#queue.pop();
  }

  /** Empties the heap (a restore that registers every timer again); the index keeps what it holds. */
  clear(): void {
    this.#queue.clear();
    this.#horizon = Number.POSITIVE_INFINITY;
  }

  /** After a restore: the heap is empty and the index is read from its start at the next `peek`. */
  reset(): void {
    this.#queue.clear();
    this.#horizon = Number.NEGATIVE_INFINITY;
  }

  /** The next sequence number kept in the index, or undefined when it has none (state from before the index). */
  savedSeq(): number | undefined {
    return (this.#index.get(SEQ_ID) as IndexedTimer | undefined)?.[0];
  }

  saveSeq(next: number): void {
    this.#index.set(SEQ_ID, [next, 0, null]);
  }

  /** The heap holds too many: it keeps the earliest half of the index, the horizon at its last time. */
  #spill(): void {
    const { slice, all } = readSlice(this.#index, '', this.#heapLimit >> 1);
    // All of the index fits: the heap was mostly stale entries, gone now.
    this.#fill(slice, all ? Number.POSITIVE_INFINITY : slice[slice.length - 1][0]);
  }

  #refill(): void {
    const { slice, all } = readSlice(this.#index, afterTime(this.#horizon), this.#heapLimit >> 1);
    this.#fill(slice, all ? Number.POSITIVE_INFINITY : slice[slice.length - 1][0]);
  }

  #fill(slice: IndexedTimer[], horizon: number): void {
    this.#queue.clear();
    for (const [time, seq, id] of slice) this.#queue.push(time, seq, id as KeyIdValue);
    this.#horizon = horizon;
  }
}
