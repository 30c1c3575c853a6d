/**
 * The timer queue of every operator: a min-heap of (time, seq, key id) entries, in parallel
 * arrays (no object per timer). Ties on time break by `seq`, which the caller chooses so firing
 * order is the same in a run and in a run restored from a snapshot: the window engines pass the
 * key's creation order, keyed timers their registration order. The queue never removes an
 * entry early: callers skip entries that went stale (a window key whose timer moved, a deleted
 * timer) when they pop them, which is cheaper than deleting from the heap.
 * @example
 * const q = new TimerQueue();
 * q.push(60_000, 0, keyId('k'));
 * while (q.size > 0 && q.peek() <= watermark) fire(q.pop());
 */
import type { KeyIdValue } from '../state/index.ts';

type KeyId = KeyIdValue;

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

  /** The `seq` of the earliest entry; call only when `size > 0`. */
  peekSeq(): number {
    return this.seqs[0];
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
