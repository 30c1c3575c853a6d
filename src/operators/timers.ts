/**
 * Timers of keyed operators: a min-heap by time per domain, with set membership so a timer
 * registered twice fires once and a deleted timer does not fire (removed lazily when popped).
 */

import { keyId } from '../state/index.ts';

export { keyId };

export interface Timer {
  time: number;
  key: unknown;
}

export class TimerQueue {
  readonly #heap: Timer[] = [];
  readonly #live = new Map<string, Timer>();
  /** Live timers per key, for firing one key's due timers ahead of the operator watermark. */
  readonly #byKey = new Map<unknown, Timer[]>();

  get size(): number {
    return this.#live.size;
  }

  register(time: number, key: unknown): void {
    const id = timerId(time, key);
    if (this.#live.has(id)) return;
    const timer = { time, key };
    this.#live.set(id, timer);
    this.#push(timer);
    const kid = keyId(key);
    const list = this.#byKey.get(kid);
    if (list === undefined) this.#byKey.set(kid, [timer]);
    else list.push(timer);
  }

  delete(time: number, key: unknown): void {
    const timer = this.#live.get(timerId(time, key));
    if (timer !== undefined) this.#forget(timer);
  }

  #forget(timer: Timer): void {
    this.#live.delete(timerId(timer.time, timer.key));
    const kid = keyId(timer.key);
    const list = this.#byKey.get(kid);
    if (list === undefined) return;
    const i = list.indexOf(timer);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#byKey.delete(kid);
  }

  /** Removes and returns the earliest live timer of `key` due at `upTo`, or undefined. */
  pollDueForKey(upTo: number, key: unknown): Timer | undefined {
    if (this.#live.size === 0) return undefined;
    const list = this.#byKey.get(keyId(key));
    if (list === undefined) return undefined;
    let best: Timer | undefined;
    for (const timer of list) if (timer.time <= upTo && (best === undefined || timer.time < best.time)) best = timer;
    if (best !== undefined) this.#forget(best);
    return best;
  }

  /** Removes and returns the earliest live timer due at `upTo`, or undefined. */
  pollDue(upTo: number): Timer | undefined {
    while (this.#heap.length > 0 && this.#heap[0].time <= upTo) {
      const timer = this.#pop();
      if (this.#live.get(timerId(timer.time, timer.key)) === timer) {
        this.#forget(timer);
        return timer;
      }
    }
    return undefined;
  }

  /** Live timers in firing order, for snapshots. */
  list(): Timer[] {
    return [...this.#live.values()].sort((a, b) => a.time - b.time);
  }

  #push(timer: Timer): void {
    const heap = this.#heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent].time <= timer.time) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = timer;
  }

  #pop(): Timer {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= heap.length) break;
        const r = l + 1;
        const c = r < heap.length && heap[r].time < heap[l].time ? r : l;
        if (heap[c].time >= last.time) break;
        heap[i] = heap[c];
        i = c;
      }
      heap[i] = last;
    }
    return top;
  }
}

function timerId(time: number, key: unknown): string {
  return typeof key === 'string' ? `${time}|s${key}` : `${time}|j${JSON.stringify(key)}`;
}
