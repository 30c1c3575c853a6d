/**
 * Per-key window state for the time-based engines (tumbling, hopping, sliding, session):
 * each key's open windows sorted by end, one timer per key, firing in window-end order, state
 * kept until `end + allowedLateness`, early updates, and snapshots as plain data.
 */
import {
  type EngineContext,
  fromJsonNumber,
  type JsonNumber,
  type KeyId,
  keyIdOf,
  toJsonNumber,
  type WindowResult,
} from './window-common.ts';
import { TimerQueue } from './window-timers.ts';

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
  extraUntil: JsonNumber;
}

export class WindowTable {
  readonly keys = new Map<KeyId, KeyWindows>();
  /** The engine's time: the operator watermark (event time) or the processing time reached. */
  progress = Number.NEGATIVE_INFINITY;
  private readonly timers = new TimerQueue();
  private nextSeq = 0;
  private readonly dirty = new Map<OpenWindow, KeyWindows>();
  private readonly ctx: EngineContext;
  private readonly hooks: WindowTableHooks;
  private readonly trackDirty: boolean;

  constructor(ctx: EngineContext, hooks: WindowTableHooks, trackDirty: boolean) {
    this.ctx = ctx;
    this.hooks = hooks;
    this.trackDirty = trackDirty;
  }

  keyWindows(key: unknown): KeyWindows {
    const id = keyIdOf(key);
    let kw = this.keys.get(id);
    if (kw === undefined) {
      kw = { key, id, seq: this.nextSeq++, windows: [], timerAt: Number.POSITIVE_INFINITY, firedUpTo: Number.NEGATIVE_INFINITY, extra: undefined, extraUntil: Number.POSITIVE_INFINITY };
      this.keys.set(id, kw);
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

  remove(kw: KeyWindows, w: OpenWindow): void {
    const i = kw.windows.indexOf(w);
    if (i >= 0) kw.windows.splice(i, 1);
    this.dirty.delete(w);
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
    else if (this.trackDirty) this.dirty.set(w, kw);
  }

  /** Emits the window's result as complete (its final, until a late record re-fires it). */
  fire(kw: KeyWindows, w: OpenWindow): void {
    w.fired = true;
    if (w.end > kw.firedUpTo) kw.firedUpTo = w.end;
    this.update(kw, w);
  }

  private update(kw: KeyWindows, w: OpenWindow): void {
    w.since = 0;
    this.dirty.delete(w);
    this.ctx.emitter.result(kw.key, w.start, w.end, this.hooks.valueOf(kw, w));
  }

  /** Early-interval firing: an update for every window that changed since its last emission. */
  emitEarly(): void {
    for (const [w, kw] of [...this.dirty]) if (!w.fired) this.update(kw, w);
    this.dirty.clear();
  }

  /** The current value of every window held, for one key or all. */
  query(key: unknown, allKeys: boolean): WindowResult[] {
    const keys = allKeys ? [...this.keys.values()] : [this.keys.get(keyIdOf(key))].filter((kw) => kw !== undefined);
    return keys.flatMap((kw) => kw.windows.map((w) => ({ key: kw.key, start: w.start, end: w.end, value: this.hooks.valueOf(kw, w) })));
  }

  /** Makes sure the key's timer is at its next piece of work. */
  schedule(kw: KeyWindows): void {
    let next = kw.extraUntil;
    const lateness = this.ctx.latenessMs;
    for (const w of kw.windows) {
      const t = w.fired ? w.end + lateness : w.end;
      if (t < next) next = t;
    }
    if (next < kw.timerAt) {
      this.timers.push(next, kw.seq, kw.id);
      kw.timerAt = next;
    }
    if (next === Number.POSITIVE_INFINITY && kw.windows.length === 0 && kw.timerAt === Number.POSITIVE_INFINITY) this.keys.delete(kw.id);
  }

  /** Time reached `progress`: fire windows ending at or before it, drop those past their lateness. */
  advance(progress: number): void {
    if (progress > this.progress) this.progress = progress;
    const lateness = this.ctx.latenessMs;
    while (this.timers.size > 0 && this.timers.peek() <= this.progress) {
      const t = this.timers.peek();
      const kw = this.keys.get(this.timers.pop());
      if (kw === undefined || kw.timerAt !== t) continue; // stale timer
      kw.timerAt = Number.POSITIVE_INFINITY;
      for (const w of kw.windows) {
        if (w.end > t) break;
        if (!w.fired) this.fire(kw, w);
      }
      if (kw.windows.length > 0 && kw.windows[0].end + lateness <= t) {
        for (const w of kw.windows) if (w.end + lateness <= t) this.dirty.delete(w);
        kw.windows = kw.windows.filter((w) => w.end + lateness > t);
      }
      if (kw.extraUntil <= t) this.hooks.expireExtra?.(kw, t);
      this.schedule(kw);
    }
  }

  snapshot(): KeyWindowsSnapshot[] {
    return [...this.keys.values()].map((kw) => ({
      key: kw.key,
      windows: kw.windows.map(({ start, end, acc, fired, since }) => ({ start, end, acc, fired, since })),
      extra: kw.extra === undefined || !this.hooks.saveExtra ? kw.extra : this.hooks.saveExtra(kw.extra),
      extraUntil: toJsonNumber(kw.extraUntil),
    }));
  }

  restore(keys: KeyWindowsSnapshot[], progress: number): void {
    this.keys.clear();
    this.dirty.clear();
    this.timers.clear();
    this.progress = progress;
    for (const s of keys) {
      const kw = this.keyWindows(s.key);
      kw.windows = s.windows.map((w) => ({ ...w }));
      // Fired windows no longer kept ended at or before `progress`, which callers check as well.
      for (const w of kw.windows) if (w.fired && w.end > kw.firedUpTo) kw.firedUpTo = w.end;
      kw.extra = s.extra === undefined || !this.hooks.loadExtra ? s.extra : this.hooks.loadExtra(s.extra);
      kw.extraUntil = fromJsonNumber(s.extraUntil);
      if (this.trackDirty) for (const w of kw.windows) if (!w.fired && w.since > 0) this.dirty.set(w, kw);
      this.schedule(kw);
    }
  }
}
