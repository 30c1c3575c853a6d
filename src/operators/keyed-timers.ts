/**
 * The timers of a keyed operator in one time domain (process functions): a timer is a (time,
 * key) pair, registered at most once, deletable, fired in time order (ties in registration
 * order), and pollable for one key ahead of the operator watermark. They wait in the
 * TimerQueue.
 *
 * With durable tables (lmdb) the timers live on disk and only the earliest are in the heap:
 * each key's pending times are in the table entry of that key, and every timer is in a time
 * index (ids ordered by time, then registration order). The heap holds the timers up to a
 * horizon; past `heapLimit` timers the later ones leave the heap (they are on disk already),
 * and when the heap's run out the next slice is read from the index. So 10 million keys with
 * pending timers need the heap of a few hundred thousand. Both tables are checkpointed with
 * the changed keys, and a restore reads the first slice of the index in the order a straight
 * run would have fired it. With heap tables the operator snapshot lists the timers.
 */
import { type KeyedTable, type KeyIdValue, keyId } from '../state/index.ts';
import { afterTime, HEAP_TIMERS, type IndexedTimer, indexId, type OrderedTable, readSlice } from './timer-index.ts';
import { TimerQueue } from './timer-queue.ts';

export interface Timer {
  time: number;
  key: unknown;
}

/** A key's pending timer times, as a durable table holds them; `seqs[i]` is the registration order of `times[i]` (absent in state written before the time index). */
export interface KeyTimes {
  key: unknown;
  times: number[];
  seqs?: number[];
}

/** A durable operator's timers as its snapshot keeps them: how many, and the next registration order. */
export interface SavedTimers {
  size: number;
  nextSeq: number;
}

/** A live timer; `seq` tells its queue entry from a stale one (the same timer deleted and registered again). */
interface LiveTimer extends Timer {
  seq: number;
}

export class KeyedTimers {
  readonly #queue = new TimerQueue();
  /** Live timers in the heap (up to the horizon) by key id (the state backend's `keyId`), then by time. */
  readonly #live = new Map<KeyIdValue, Map<number, LiveTimer>>();
  readonly #table: KeyedTable<KeyTimes> | undefined;
  readonly #index: OrderedTable<IndexedTimer> | undefined;
  readonly #heapLimit: number;
  /** Every live timer at or before this time is in the heap; later ones are only on disk. */
  #horizon = Number.POSITIVE_INFINITY;
  #size = 0;
  #inHeap = 0;
  #nextSeq = 0;

  /**
   * `table`: a durable table to mirror each key's timers into; `index`: the durable time index
   * beside it (then the heap holds at most about `heapLimit` timers). Without them the queue
   * alone holds every timer.
   */
  constructor(table?: KeyedTable<KeyTimes>, index?: OrderedTable<IndexedTimer>, options: { heapLimit?: number } = {}) {
    this.#table = table?.durable ? table : undefined;
    this.#index = this.#table !== undefined && index?.durable ? index : undefined;
    this.#heapLimit = Math.max(2, options.heapLimit ?? HEAP_TIMERS);
  }

  /** Whether the timers are checkpointed by the table (then snapshots leave them out). */
  get durable(): boolean {
    return this.#table !== undefined;
  }

  get size(): number {
    return this.#size;
  }

  /** Timers in the heap now (all of them without a time index). */
  get inHeap(): number {
    return this.#inHeap;
  }

  register(time: number, key: unknown): void {
    const id = keyId(key);
    const table = this.#table;
    let entry: KeyTimes | undefined;
    if (table !== undefined) {
      entry = table.get(id) ?? { key, times: [], seqs: [] };
      if (entry.times.includes(time)) return;
    } else if (this.#live.get(id)?.has(time)) return;
    const seq = this.#nextSeq++;
    this.#size++;
    if (entry !== undefined) {
      entry.times.push(time);
      (entry.seqs ??= []).push(seq);
      table!.set(id, entry);
      this.#index?.set(indexId(time, seq), [time, seq, key]);
    }
    if (time <= this.#horizon) this.#toHeap(id, time, seq, key);
    if (this.#index !== undefined && this.#inHeap > this.#heapLimit) this.#spill();
  }

  delete(time: number, key: unknown): void {
    const id = keyId(key);
    if (this.#table === undefined) {
      if (this.#take(id, time) !== undefined) this.#size--;
      return;
    }
    if (this.#forget(id, time)) {
      this.#take(id, time);
      this.#size--;
    }
  }

  /** Removes and returns the earliest live timer due at `upTo`, or undefined. */
  pollDue(upTo: number): Timer | undefined {
    const queue = this.#queue;
    for (;;) {
      if (queue.size === 0 || queue.peek() > upTo) {
        // The heap's timers are done, later ones wait on disk: read the next slice.
        if (this.#inHeap === 0 && this.#size > 0 && this.#horizon < upTo && this.#index !== undefined) {
          this.#refill();
          continue;
        }
        return undefined;
      }
      const time = queue.peek();
      const seq = queue.peekSeq();
      const id = queue.pop();
      const timer = this.#live.get(id)?.get(time);
      if (timer === undefined || timer.seq !== seq) continue; // deleted since, or registered again later
      this.#take(id, time);
      this.#forget(id, time);
      this.#size--;
      return timer;
    }
  }

  /** Removes and returns the earliest live timer of `key` due at `upTo`, or undefined. */
  pollDueForKey(upTo: number, key: unknown): Timer | undefined {
    if (this.#size === 0) return undefined;
    const id = keyId(key);
    const times = this.#live.get(id);
    let best: number | undefined;
    for (const time of times?.keys() ?? []) if (time <= upTo && (best === undefined || time < best)) best = time;
    if (best === undefined && upTo > this.#horizon) {
      // Not in the heap: a due timer of this key past the horizon is in its table entry.
      for (const time of this.#table?.get(id)?.times ?? []) if (time > this.#horizon && time <= upTo && (best === undefined || time < best)) best = time;
      if (best === undefined) return undefined;
      this.#forget(id, best);
      this.#size--;
      return { time: best, key };
    }
    if (best === undefined) return undefined;
    const timer = this.#take(id, best);
    this.#forget(id, best);
    this.#size--;
    return timer;
  }

  /** Live timers in firing order (the operator snapshot's list when not durable). */
  list(): Timer[] {
    const all: LiveTimer[] = [];
    for (const times of this.#live.values()) for (const timer of times.values()) all.push(timer);
    return all.sort((a, b) => a.time - b.time || a.seq - b.seq).map(({ time, key }) => ({ time, key }));
  }

  /**
   * After a restore from durable tables: the first slice of the time index back in the heap.
   * `saved` is what `saved()` gave at the checkpoint; without it (state written before the
   * index) every key's entry is read once, and older entries without registration orders are
   * registered again, which writes the index they lack.
   */
  reload(saved?: SavedTimers): void {
    const table = this.#table;
    if (table === undefined) return;
    this.#queue.clear();
    this.#live.clear();
    this.#inHeap = 0;
    if (saved !== undefined && this.#index !== undefined) {
      this.#size = saved.size;
      this.#nextSeq = saved.nextSeq;
      this.#horizon = Number.NEGATIVE_INFINITY;
      if (this.#size > 0) this.#refill();
      return;
    }
    const entries = [...table.entries()].map(([, entry]) => entry);
    this.#size = 0;
    this.#horizon = Number.POSITIVE_INFINITY;
    for (const entry of entries) table.delete(keyId(entry.key));
    for (const entry of entries) for (const time of [...entry.times].sort((a, b) => a - b)) this.register(time, entry.key);
  }

  /** What a durable operator's snapshot keeps for `reload`: the count and the next registration order. */
  saved(): SavedTimers {
    return { size: this.#size, nextSeq: this.#nextSeq };
  }

  /** Puts a registered timer in the heap. */
  #toHeap(id: KeyIdValue, time: number, seq: number, key: unknown): void {
    let times = this.#live.get(id);
    if (times === undefined) this.#live.set(id, (times = new Map()));
    times.set(time, { time, key, seq });
    this.#inHeap++;
    this.#queue.push(time, seq, id);
  }

  /** The heap holds too many: it keeps the earliest half of the index (it has every timer), the horizon at its last time. */
  #spill(): void {
    this.#queue.clear();
    this.#live.clear();
    this.#inHeap = 0;
    this.#fill(readSlice(this.#index!, '', this.#heapLimit >> 1));
  }

  /** The heap is empty: the next slice of the index (after the horizon) comes in. */
  #refill(): void {
    this.#fill(readSlice(this.#index!, afterTime(this.#horizon), this.#heapLimit >> 1));
  }

  /** A slice of the index into the heap; the horizon moves to its last time (past everything when it was the rest). */
  #fill({ slice, all }: { slice: IndexedTimer[]; all: boolean }): void {
    for (const [time, seq, key] of slice) this.#toHeap(keyId(key), time, seq, key);
    this.#horizon = all ? Number.POSITIVE_INFINITY : slice[slice.length - 1][0];
  }

  #take(id: KeyIdValue, time: number): LiveTimer | undefined {
    const times = this.#live.get(id);
    const timer = times?.get(time);
    if (timer === undefined) return undefined;
    times!.delete(time);
    if (times!.size === 0) this.#live.delete(id);
    this.#inHeap--;
    return timer;
  }

  /** Drops a fired or deleted timer from the durable tables; whether it was there. */
  #forget(id: KeyIdValue, time: number): boolean {
    const table = this.#table;
    if (table === undefined) return false;
    const entry = table.get(id);
    if (entry === undefined) return false;
    const i = entry.times.indexOf(time);
    if (i < 0) return false;
    const seq = entry.seqs?.[i];
    entry.times.splice(i, 1);
    entry.seqs?.splice(i, 1);
    if (entry.times.length === 0) table.delete(id);
    else table.set(id, entry);
    if (seq !== undefined) this.#index?.delete(indexId(time, seq));
    return true;
  }
}
