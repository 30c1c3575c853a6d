/**
 * A min-queue of (time, key) timers for the window engines: each key keeps one live timer at
 * the next time it has work (a window end to fire, or end + lateness to drop state). Stale
 * entries are skipped on pop, which is cheaper than removing them from the heap. Ties on time
 * break by the key's sequence number (its creation order), so keys fire in the same order in a
 * run and in a run restored from a snapshot.
 */
import type { KeyId } from './window-common.ts';

export class TimerQueue {
  private times: number[] = [];
  private seqs: number[] = [];
  private keys: KeyId[] = [];

  get size(): number {
    return this.times.length;
  }

  private before(i: number, time: number, seq: number): boolean {
    return this.times[i] < time || (this.times[i] === time && this.seqs[i] < seq);
  }

  push(time: number, seq: number, key: KeyId): void {
    const { times, seqs, keys } = this;
    let i = times.length;
    times.push(time);
    seqs.push(seq);
    keys.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.before(parent, time, seq)) break;
      times[i] = times[parent];
      seqs[i] = seqs[parent];
      keys[i] = keys[parent];
      i = parent;
    }
    times[i] = time;
    seqs[i] = seq;
    keys[i] = key;
  }

  /** The earliest time queued, or +Infinity. */
  peek(): number {
    return this.times.length > 0 ? this.times[0] : Number.POSITIVE_INFINITY;
  }

  /** Removes the earliest timer and returns its key; call only when `size > 0`. */
  pop(): KeyId {
    const { times, seqs, keys } = this;
    const top = keys[0];
    const lastTime = times.pop()!;
    const lastSeq = seqs.pop()!;
    const lastKey = keys.pop() as KeyId;
    const n = times.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && this.before(child + 1, times[child], seqs[child])) child++;
        if (!this.before(child, lastTime, lastSeq)) break;
        times[i] = times[child];
        seqs[i] = seqs[child];
        keys[i] = keys[child];
        i = child;
      }
      times[i] = lastTime;
      seqs[i] = lastSeq;
      keys[i] = lastKey;
    }
    return top;
  }

  clear(): void {
    this.times = [];
    this.seqs = [];
    this.keys = [];
  }
}
