/**
 * A min-queue of (time, key) timers for the window engines: each key keeps one live timer at
 * the next time it has work (a window end to fire, or end + lateness to drop state). Stale
 * entries are skipped on pop, which is cheaper than removing them from the heap.
 */
import type { KeyId } from './window-common.ts';

export class TimerQueue {
  private times: number[] = [];
  private keys: KeyId[] = [];

  get size(): number {
    return this.times.length;
  }

  push(time: number, key: KeyId): void {
    const times = this.times;
    const keys = this.keys;
    let i = times.length;
    times.push(time);
    keys.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent] <= time) break;
      times[i] = times[parent];
      keys[i] = keys[parent];
      i = parent;
    }
    times[i] = time;
    keys[i] = key;
  }

  /** The earliest time queued, or +Infinity. */
  peek(): number {
    return this.times.length > 0 ? this.times[0] : Number.POSITIVE_INFINITY;
  }

  /** Removes the earliest timer and returns its key; call only when `size > 0`. */
  pop(): KeyId {
    const times = this.times;
    const keys = this.keys;
    const top = keys[0];
    const lastTime = times.pop()!;
    const lastKey = keys.pop();
    const n = times.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && times[child + 1] < times[child]) child++;
        if (times[child] >= lastTime) break;
        times[i] = times[child];
        keys[i] = keys[child];
        i = child;
      }
      times[i] = lastTime;
      keys[i] = lastKey;
    }
    return top;
  }

  clear(): void {
    this.times = [];
    this.keys = [];
  }
}
