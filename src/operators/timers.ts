/**
 * Timers of keyed operators: a min-heap by time per domain, with set membership so a timer
 * registered twice fires once and a deleted timer does not fire (removed lazily when popped).
 */

/** The identity of a key in maps: primitives as themselves, objects by their JSON. */
export function keyId(key: unknown): unknown {
  return key !== null && typeof key === 'object' ? `\u0000${JSON.stringify(key)}` : key;
}

export interface Timer {
  time: number;
  key: unknown;
}

export class TimerQueue {
  readonly #heap: Timer[] = [];
  readonly #live = new Map<string, Timer>();

  get size(): number {
    return this.#live.size;
  }

  register(time: number, key: unknown): void {
    const id = timerId(time, key);
    if (this.#live.has(id)) return;
    const timer = { time, key };
    this.#live.set(id, timer);
    this.#push(timer);
  }

  delete(time: number, key: unknown): void {
    this.#live.delete(timerId(time, key));
  }

  /** Removes and returns the earliest live timer due at `upTo`, or undefined. */
  pollDue(upTo: number): Timer | undefined {
    while (this.#heap.length > 0 && this.#heap[0].time <= upTo) {
      const timer = this.#pop();
      const id = timerId(timer.time, timer.key);
      if (this.#live.get(id) === timer) {
        this.#live.delete(id);
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
