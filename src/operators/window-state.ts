/**
 * Per-key window state for the time-based engines (tumbling, hopping, sliding, session):
 * each key's open windows sorted by end, one timer per key, firing in window-end order, state
 * kept until `end + allowedLateness`, early updates, and snapshots as plain data.
 *
 * The keys' windows live in a keyed table: the heap (saved whole in each snapshot), or a durable
 * table of the lmdb backend, which writes the keys changed since the last checkpoint and leaves
 * them out of the snapshot. The timers (one per key with work pending) are a heap queue; with a
 * durable table and a time index beside it they are on disk, the heap holding only the earliest
 * (timer-index.ts), and a restore reads the first of them. A durable table without an index
 * (state from before the index) rebuilds them with one scan, writing the index.
 */
import { type EngineContext, type KeyId, savedNumber, type WindowResult } from './window-common.ts';
import { type KeyedTable, keyId, MemoryTable } from '../state/index.ts';
import { isOrderedTable, type IndexedTimer, TimeIndexQueue } from './timer-index.ts';
import { TimerQueue } from './timer-queue.ts';

export interface OpenWindow {
  start: number;
  end: number;
  /** The accumulator (unused by sliding windows, which aggregate their lookback when they fire). */
  acc: unknown;
  /** Whether its on-time result has been emitted; later contributions re-fire it. */
  fired: boolean;
  /** Contributions since its last emission (early firings). */
  since: number;
}

export interface KeyWindows {
  key: unknown;
  id: KeyId;
  /** Creation order, to break ties between keys firing at the same time. */
  seq: number;
  /** Sorted by end, then start. */
  windows: OpenWindow[];
  /**
   * The time of this key's live timer (+Infinity when none). It may be earlier than the key's
   * next work (a session grew): the timer then wakes the key for nothing and re-arms, which is
   * cheaper than a new heap entry per record.
   */
  timerAt: number;
  /** The largest end of a window of this key that has fired (-Infinity when none). */
  firedUpTo: number;
  /** Extra state an engine keeps per key (sliding windows' lookback buffer). */
  extra: unknown;
  /** When `extra` next needs cleaning (+Infinity when never). */
  extraUntil: number;
}

export interface WindowTableHooks {
  /** The value to emit for a window. */
  valueOf(kw: KeyWindows, w: OpenWindow): unknown;
  /** Time reached `t` for this key: drop extra state that no window can need any more. */
  expireExtra?(kw: KeyWindows, t: number): void;
  /** `extra` as plain data for a snapshot, and back (default: as it is). */
  saveExtra?(extra: unknown): unknown;
  loadExtra?(saved: unknown): unknown;
}

export interface KeyWindowsSnapshot {
  key: unknown;
  windows: { start: number; end: number; acc: unknown; fired: boolean; since: number }[];
  extra: unknown;
  /** A number; snapshots taken before infinities had one JSON encoding hold `'inf'` here. */
  extraUntil: number;
}

export class WindowTable {
  private readonly keys: KeyedTable<KeyWindows>;
  /** Whether `keys` is on disk: then every change to a key is written back with `set`. */
  private readonly durable: boolean;
  /** The engine's time: the operator watermark (event time) or the processing time reached. */
  progress = Number.NEGATIVE_INFINITY;
  private readonly timers: TimerQueue | TimeIndexQueue;
  /** The timers' time index on disk, when there is one: the queue reads and writes it. */
  private readonly onDisk: TimeIndexQueue | undefined;
  private nextSeq = 0;
  /** Keys with windows changed since their last emission (early-interval firing). */
  private readonly dirty = new Set<KeyId>();
  private readonly ctx: EngineContext;
  private readonly hooks: WindowTableHooks;
  private readonly trackDirty: boolean;

  constructor(ctx: EngineContext, hooks: WindowTableHooks, trackDirty: boolean) {
    this.ctx = ctx;
    this.hooks = hooks;
    this.trackDirty = trackDirty;
    this.keys = (ctx.table as KeyedTable<KeyWindows> | undefined) ?? new MemoryTable<KeyWindows>();
    this.durable = this.keys.durable;
    const index = ctx.timerIndex as KeyedTable<IndexedTimer> | undefined;
    this.onDisk = this.durable && isOrderedTable(index) ? new TimeIndexQueue(index, ctx.timerHeapLimit) : undefined;
    this.timers = this.onDisk ?? new TimerQueue();
  }

  keyWindows(key: unknown): KeyWindows {
    const id = keyId(key);
    let kw = this.keys.get(id);
    if (kw === undefined) {
      kw = { key, id, seq: this.nextSeq++, windows: [], timerAt: Number.POSITIVE_INFINITY, firedUpTo: Number.NEGATIVE_INFINITY, extra: undefined, extraUntil: Number.POSITIVE_INFINITY };
      this.keys.set(id, kw);
      this.onDisk?.saveSeq(this.nextSeq);
    }
    return kw;
  }

  /** Whether a window ending at `end` is still kept (not past `end + lateness`). */
  isOpen(end: number): boolean {
    return end + this.ctx.latenessMs > this.progress;
  }

  find(kw: KeyWindows, start: number, end: number): OpenWindow | undefined {
    for (const w of kw.windows) if (w.end === end && w.start === start) return w;
    return undefined;
  }

  insert(kw: KeyWindows, w: OpenWindow): void {
    const ws = kw.windows;
    let i = ws.length;
    while (i > 0 && (ws[i - 1].end > w.end || (ws[i - 1].end === w.end && ws[i - 1].start > w.start))) i--;
    ws.splice(i, 0, w);
  }

  /** `w`'s start or end changed: moves it to its place in end order, in place (no copy). */
  reposition(kw: KeyWindows, w: OpenWindow): void {
    const ws = kw.windows;
    let i = ws.indexOf(w);
    // As remove and insert would place it: after every window of the same end and start.
    const after = (a: OpenWindow, b: OpenWindow): boolean => a.end > b.end || (a.end === b.end && a.start > b.start);
    while (i + 1 < ws.length && !after(ws[i + 1], w)) {
      ws[i] = ws[i + 1];
      ws[++i] = w;
    }
    while (i > 0 && after(ws[i - 1], w)) {
      ws[i] = ws[i - 1];
      ws[--i] = w;
    }
  }

  remove(kw: KeyWindows, w: OpenWindow): void {
    const i = kw.windows.indexOf(w);
    if (i >= 0) kw.windows.splice(i, 1);
  }

  /**
   * Fires, in end order, every window of the key not fired yet that ends at or before `upTo`.
   * Called before a record changes a window its own partition's watermark already completed, so
   * the emissions match what a watermark after every record would have produced: results do
   * not depend on how the runtime batched records and watermarks.
   */
  catchUp(kw: KeyWindows, upTo: number): void {
    for (const w of kw.windows) {
      if (w.end > upTo) break;
      if (!w.fired) this.fire(kw, w);
    }
  }

  /**
   * A record contributed to `w`. A window already complete (fired, or ending at or before
   * `completeAt`) emits its updated result now; otherwise early firings may emit an update.
   */
  contributed(kw: KeyWindows, w: OpenWindow, completeAt: number): void {
    if (w.fired || w.end <= completeAt) {
      this.fire(kw, w);
      return;
    }
    w.since++;
    if (this.ctx.earlyEvery > 0 && w.since >= this.ctx.earlyEvery) this.update(kw, w);
    else if (this.trackDirty) this.dirty.add(kw.id);
  }

  /** Emits the window's result as complete (its final, until a late record re-fires it). */
  fire(kw: KeyWindows, w: OpenWindow): void {
    w.fired = true;
    if (w.end > kw.firedUpTo) kw.firedUpTo = w.end;
    this.update(kw, w);
  }

  private update(kw: KeyWindows, w: OpenWindow): void {
    w.since = 0;
    if (this.durable) this.keys.set(kw.id, kw);
    let value: unknown;
    try {
      value = this.hooks.valueOf(kw, w);
    } catch (cause) {
      // User code failed on this window: report it and go on firing the others.
      this.ctx.emitter.failed(kw.key, w.start, w.end, cause);
      return;
    }
    this.ctx.emitter.result(kw.key, w.start, w.end, value);
  }

  /** Early-interval firing: an update for every window that changed since its last emission. */
  emitEarly(): void {
    const ids = [...this.dirty];
    this.dirty.clear();
    for (const id of ids) {
      const kw = this.keys.get(id);
      if (kw !== undefined) for (const w of kw.windows) if (!w.fired && w.since > 0) this.update(kw, w);
    }
  }

  /** The current value of every window held, for one key or all. */
  query(key: unknown, allKeys: boolean): WindowResult[] {
    const keys = allKeys ? [...this.keys.entries()].map(([, kw]) => kw) : [this.keys.get(keyId(key))].filter((kw) => kw !== undefined);
    return keys.flatMap((kw) => kw.windows.map((w) => ({ key: kw.key, start: w.start, end: w.end, value: this.hooks.valueOf(kw, w) })));
  }

  /** The time of the key's next piece of work: a window end to fire, or end + lateness to drop. */
  private nextWork(kw: KeyWindows): number {
    let next = kw.extraUntil;
    const lateness = this.ctx.latenessMs;
    for (const w of kw.windows) {
      const t = w.fired ? w.end + lateness : w.end;
      if (t < next) next = t;
    }
    return next;
  }

  /** Makes sure the key's timer is at its next piece of work; called after every change to a key. */
  schedule(kw: KeyWindows): void {
    const next = this.nextWork(kw);
    if (next < kw.timerAt) {
      // On disk the earlier timer replaces the later (in the heap a stale entry is skipped when popped).
      if (kw.timerAt !== Number.POSITIVE_INFINITY) this.onDisk?.remove(kw.timerAt, kw.seq);
      this.timers.push(next, kw.seq, kw.id);
      kw.timerAt = next;
    }
    if (next === Number.POSITIVE_INFINITY && kw.windows.length === 0 && kw.timerAt === Number.POSITIVE_INFINITY) this.keys.delete(kw.id);
    else if (this.durable) this.keys.set(kw.id, kw);
  }

  /** Time reached `progress`: fire windows ending at or before it, drop those past their lateness. */
  advance(progress: number): void {
    if (progress > this.progress) this.progress = progress;
    const lateness = this.ctx.latenessMs;
    // An empty queue peeks +Infinity, which a final watermark (+Infinity) must not take for a timer.
    for (let next = this.timers.peek(); next !== Number.POSITIVE_INFINITY && next <= this.progress; next = this.timers.peek()) {
      const t = this.timers.peek();
      const kw = this.keys.get(this.timers.pop());
      if (kw === undefined || kw.timerAt !== t) continue; // stale timer
      kw.timerAt = Number.POSITIVE_INFINITY;
      const windows = kw.windows;
      for (let i = 0; i < windows.length; i++) {
        const w = windows[i];
        if (w.end > t) break;
        if (!w.fired) this.fire(kw, w);
      }
      // Windows are in end order, so those past their lateness are a prefix: dropped in place.
      let drop = 0;
      while (drop < windows.length && windows[drop].end + lateness <= t) drop++;
      if (drop > 0) windows.splice(0, drop);
      if (kw.extraUntil <= t) this.hooks.expireExtra?.(kw, t);
      this.schedule(kw);
    }
  }

  /** The keys' windows as plain data; null when a durable table checkpoints them itself. */
  snapshot(): KeyWindowsSnapshot[] | null {
    if (this.durable) return null;
    return [...this.keys.entries()].map(([, kw]) => ({
      key: kw.key,
      windows: kw.windows.map(({ start, end, acc, fired, since }) => ({ start, end, acc, fired, since })),
      extra: kw.extra === undefined || !this.hooks.saveExtra ? kw.extra : this.hooks.saveExtra(kw.extra),
      extraUntil: kw.extraUntil,
    }));
  }

  restore(keys: KeyWindowsSnapshot[] | null, progress: number): void {
    this.dirty.clear();
    this.progress = progress;
    if (keys === null) {
      this.rebuildTimers();
      return;
    }
    this.timers.clear();
    for (const s of keys) {
      const kw = this.keyWindows(s.key);
      kw.windows = s.windows.map((w) => ({ ...w }));
      // Fired windows no longer kept ended at or before `progress`, which callers check as well.
      for (const w of kw.windows) if (w.fired && w.end > kw.firedUpTo) kw.firedUpTo = w.end;
      kw.extra = s.extra === undefined || !this.hooks.loadExtra ? s.extra : this.hooks.loadExtra(s.extra);
      kw.extraUntil = savedNumber(s.extraUntil);
      if (this.trackDirty && kw.windows.some((w) => !w.fired && w.since > 0)) this.dirty.add(kw.id);
      this.schedule(kw);
    }
  }

  /**
   * After a restore from a durable table: with a time index, its first timers come back when
   * first asked for, and the next creation number is the index's. Without one, each key's live
   * timer again, at the time it had when checkpointed (a later read of the key sees that same
   * `timerAt`), ties broken by creation order; a queue on disk gets its index so.
   */
  private rebuildTimers(): void {
    const saved = this.onDisk?.savedSeq();
    if (this.onDisk !== undefined && saved !== undefined) {
      this.onDisk.reset();
      this.nextSeq = saved;
      // Early-interval firing needs the keys with unfired changes: one pass over the keys (nothing kept but their ids).
      if (this.trackDirty) for (const [, kw] of this.keys.entries()) if (kw.windows.some((w) => !w.fired && w.since > 0)) this.dirty.add(kw.id);
      return;
    }
    this.timers.clear();
    for (const [, kw] of this.keys.entries()) {
      if (kw.timerAt !== Number.POSITIVE_INFINITY) this.timers.push(kw.timerAt, kw.seq, kw.id);
      if (kw.seq >= this.nextSeq) this.nextSeq = kw.seq + 1;
      if (this.trackDirty && kw.windows.some((w) => !w.fired && w.since > 0)) this.dirty.add(kw.id);
    }
    this.onDisk?.saveSeq(this.nextSeq);
  }
}
