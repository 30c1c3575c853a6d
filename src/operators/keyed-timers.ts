/**
 * The timers of a keyed operator in one time domain (process functions): a timer is a (time,
 * key) pair, registered at most once, deletable, fired in time order (ties in registration
 * order), and pollable for one key ahead of the operator watermark. They wait in the
 * TimerQueue. With a durable table (lmdb) each key's pending times also live in the table entry
 * of that key, so they are checkpointed with the changed keys instead of inside the operator
 * snapshot, and a restore rebuilds the queue with one scan; with a heap table the operator
 * snapshot lists them.
 */
import { type KeyedTable, type KeyIdValue, keyId } from '../state/index.ts';
import { TimerQueue } from './timer-queue.ts';

export interface Timer {
  time: number;
  key: unknown;
}

/** A key's pending timer times, as a durable table holds them. */
export interface KeyTimes {
  key: unknown;
  times: number[];
}

/** A live timer; `seq` tells its queue entry from a stale one (the same timer deleted and registered again). */
interface LiveTimer extends Timer {
  seq: number;
}

export class KeyedTimers {
  readonly #queue = new TimerQueue();
  /** Live timers by key id (the state backend's `keyId`), then by time. */
  readonly #live = new Map<KeyIdValue, Map<number, LiveTimer>>();
  readonly #table: KeyedTable<KeyTimes> | undefined;
  #size = 0;
  #nextSeq = 0;

  /** `table`: a durable table to mirror the timers into; without one, the queue alone holds them. */
  constructor(table?: KeyedTable<KeyTimes>) {
    this.#table = table?.durable ? table : undefined;
  }

  /** Whether the timers are checkpointed by the table (then snapshots leave them out). */
  get durable(): boolean {
    return this.#table !== undefined;
  }

  get size(): number {
    return this.#size;
  }

  register(time: number, key: unknown): void {
    const id = keyId(key);
    let times = this.#live.get(id);
    if (times === undefined) this.#live.set(id, (times = new Map()));
    else if (times.has(time)) return;
    const seq = this.#nextSeq++;
    times.set(time, { time, key, seq });
    this.#size++;
    this.#queue.push(time, seq, id);
    const table = this.#table;
    if (table === undefined) return;
    const entry = table.get(id) ?? { key, times: [] };
    if (entry.times.includes(time)) return;
    entry.times.push(time);
    table.set(id, entry);
  }

  delete(time: number, key: unknown): void {
    const id = keyId(key);
    if (this.#take(id, time) !== undefined) this.#forget(id, time);
  }

  /** Removes and returns the earliest live timer due at `upTo`, or undefined. */
  pollDue(upTo: number): Timer | undefined {
    const queue = this.#queue;
    while (queue.size > 0 && queue.peek() <= upTo) {
      const time = queue.peek();
      const seq = queue.peekSeq();
      const id = queue.pop();
      const timer = this.#live.get(id)?.get(time);
      if (timer === undefined || timer.seq !== seq) continue; // deleted since, or registered again later
      this.#take(id, time);
      this.#forget(id, time);
      return timer;
    }
    return undefined;
  }

  /** Removes and returns the earliest live timer of `key` due at `upTo`, or undefined. */
  pollDueForKey(upTo: number, key: unknown): Timer | undefined {
    if (this.#size === 0) return undefined;
    const id = keyId(key);
    const times = this.#live.get(id);
    if (times === undefined) return undefined;
    let best: number | undefined;
    for (const time of times.keys()) if (time <= upTo && (best === undefined || time < best)) best = time;
    if (best === undefined) return undefined;
    const timer = this.#take(id, best);
    this.#forget(id, best);
    return timer;
  }

  /** Live timers in firing order (the operator snapshot's list when not durable). */
  list(): Timer[] {
    const all: LiveTimer[] = [];
    for (const times of this.#live.values()) for (const timer of times.values()) all.push(timer);
    return all.sort((a, b) => a.time - b.time || a.seq - b.seq).map(({ time, key }) => ({ time, key }));
  }

  /** After a restore from a durable table: every key's timers back in the queue. */
  reload(): void {
    if (this.#table === undefined) return;
    for (const [, entry] of this.#table.entries()) for (const time of [...entry.times].sort((a, b) => a - b)) this.register(time, entry.key);
  }

  #take(id: KeyIdValue, time: number): LiveTimer | undefined {
    const times = this.#live.get(id);
    const timer = times?.get(time);
    if (timer === undefined) return undefined;
    times!.delete(time);
    if (times!.size === 0) this.#live.delete(id);
    this.#size--;
    return timer;
  }

  /** Drops a fired or deleted timer from the durable table. */
  #forget(id: KeyIdValue, time: number): void {
    const table = this.#table;
    if (table === undefined) return;
    const entry = table.get(id);
    if (entry === undefined) return;
    const i = entry.times.indexOf(time);
    if (i < 0) return;
    entry.times.splice(i, 1);
    if (entry.times.length === 0) table.delete(id);
    else table.set(id, entry);
  }
}
