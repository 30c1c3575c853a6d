/**
 * Timers kept in the state backend as well as in the heap queue: with a durable table (lmdb),
 * each key's pending timer times live in the table entry of that key, so they are checkpointed
 * with the changed keys instead of inside the operator snapshot, and a restore rebuilds the
 * queue with one scan of the table. With a heap table the queue alone holds them (the
 * operator snapshot lists them).
 */
import { type KeyedTable, keyId } from '../state/index.ts';
import { type Timer, TimerQueue } from './timers.ts';

export interface KeyTimes {
  key: unknown;
  times: number[];
}

export class DurableTimers {
  readonly #queue = new TimerQueue();
  readonly #table: KeyedTable<KeyTimes> | undefined;

  /** `table`: a durable table to mirror the timers into; without one, the queue alone holds them. */
  constructor(table?: KeyedTable<KeyTimes>) {
    this.#table = table?.durable ? table : undefined;
  }

  /** Whether the timers are checkpointed by the table (then snapshots leave them out). */
  get durable(): boolean {
    return this.#table !== undefined;
  }

  get size(): number {
    return this.#queue.size;
  }

  register(time: number, key: unknown): void {
    this.#queue.register(time, key);
    const table = this.#table;
    if (table === undefined) return;
    const id = keyId(key);
    const entry = table.get(id) ?? { key, times: [] };
    if (entry.times.includes(time)) return;
    entry.times.push(time);
    table.set(id, entry);
  }

  delete(time: number, key: unknown): void {
    this.#queue.delete(time, key);
    this.#forget(time, key);
  }

  pollDue(upTo: number): Timer | undefined {
    return this.#fired(this.#queue.pollDue(upTo));
  }

  pollDueForKey(upTo: number, key: unknown): Timer | undefined {
    return this.#fired(this.#queue.pollDueForKey(upTo, key));
  }

  /** Live timers in firing order (the operator snapshot's list when not durable). */
  list(): Timer[] {
    return this.#queue.list();
  }

  /** After a restore from a durable table: every key's timers back in the queue. */
  reload(): void {
    if (this.#table === undefined) return;
    for (const [, entry] of this.#table.entries()) for (const time of entry.times) this.#queue.register(time, entry.key);
  }

  #fired(timer: Timer | undefined): Timer | undefined {
    if (timer !== undefined) this.#forget(timer.time, timer.key);
    return timer;
  }

  #forget(time: number, key: unknown): void {
    const table = this.#table;
    if (table === undefined) return;
    const id = keyId(key);
    const entry = table.get(id);
    if (entry === undefined) return;
    const i = entry.times.indexOf(time);
    if (i < 0) return;
    entry.times.splice(i, 1);
    if (entry.times.length === 0) table.delete(id);
    else table.set(id, entry);
  }
}
