/**
 * Tumbling and hopping windows on heap state, window-major: per pane one map of key ->
 * accumulator, per window one map of the keys whose records took the slow path, and one
 * pending entry per window end (not one timer per key). A window fires by walking its panes'
 * maps once, so firing reads a few large maps instead of every key's own scattered windows.
 *
 * It gives the same results and the same per-key emission order as FixedWindowEngine (which
 * keeps each key's windows, and still runs on durable tables and with early firings):
 * - fast path (hopping with `merge`): a record none of whose windows is complete goes into its
 *   one pane; a window's value for a key merges its panes, then the key's slow-path accumulator;
 * - slow path: a record that reaches a complete window, or only some of its windows (the
 *   lateness rule), or any record of a window without panes (tumbling, or no `merge`), is added
 *   to each window it contributes to, in the key's cell of that window;
 * - a key's window fires when the operator time reaches its end, or earlier when a record of
 *   the key changes a window its own partition's watermark already completed (`catchUp`);
 * - state is kept until `end + allowedLateness`, a pane until its last window is dropped.
 * Keys of one window end fire in the order they first appeared in the window's panes.
 */
import { alignedStart } from '../time/assigners.ts';
import type { WindowSpec } from '../time/window-spec.ts';
import type { AggregateFunction } from './aggregate-function.ts';
import type { Element } from './operator.ts';
import type { EngineContext, KeyId, WindowEngine, WindowResult } from './window-common.ts';
import { type HeldState, keyId, MemoryTable } from '../state/index.ts';
import { type PaneCell, type PaneWindow, type PaneWindowsSnapshot, type WindowCell, fromKeyWindows, isPaneSnapshot } from './window-panes-snapshot.ts';
import type { KeyWindowsSnapshot } from './window-state.ts';

/** A key's accumulators of a firing window merged so far, or the failure of user code that stopped it. */
interface Merged {
  key: unknown;
  acc: unknown;
  failure: { cause: unknown } | undefined;
}

/** Keys whose state stands for the rest in a size estimate (as the heap backend samples its tables). */
const HELD_SAMPLE = 64;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

export class PaneWindowEngine implements WindowEngine {
  private readonly ctx: EngineContext;
  private readonly sizeMs: number;
  private readonly slideMs: number;
  private readonly offsetMs: number;
  /** Pane length, 0 when panes are off (every record takes the slow path). */
  readonly paneMs: number;
  /** Pane start -> (key id -> the key's accumulator of the pane). */
  private readonly panes = new Map<number, Map<KeyId, PaneCell>>();
  /** Windows held (open, or fired and within lateness), by end, and in end order. */
  private readonly byEnd = new Map<number, PaneWindow>();
  private readonly windows: PaneWindow[] = [];
  /** Keys that fired a window ahead of the operator time: the largest such end. */
  private readonly firedAhead = new Map<KeyId, number>();
  /**
   * The pane and the window the last record went to, and the grid start of its slide: records
   * come mostly in time order, so the next one is most often in the same ones. Epoch-ms keys
   * are beyond small integers, so each Map lookup hashes a heap number; these skip it.
   */
  private lastPane: Map<KeyId, PaneCell> | undefined;
  private lastPaneStart = Number.NaN;
  private lastWindow: PaneWindow | undefined;
  private lastSlideStart = Number.NaN;
  private progress = Number.NEGATIVE_INFINITY;

  /** Whether this engine runs these windows: heap state and no early firings (those keep the per-key engine). */
  static applies(ctx: EngineContext, trackDirty: boolean): boolean {
    return ctx.table?.durable !== true && ctx.earlyEvery === 0 && !trackDirty;
  }

  constructor(spec: WindowSpec & { kind: 'tumbling' | 'hopping' }, ctx: EngineContext) {
    this.ctx = ctx;
    this.sizeMs = spec.sizeMs;
    this.slideMs = spec.kind === 'hopping' ? spec.slideMs : spec.sizeMs;
    this.offsetMs = spec.offsetMs;
    const panes = spec.kind === 'hopping' && spec.slideMs < spec.sizeMs && ctx.aggregate.merge !== undefined;
    this.paneMs = panes ? gcd(this.sizeMs, this.slideMs) : 0;
    // The heap table stays empty: the state backend measures this engine's state instead (metrics, the planner).
    if (ctx.table instanceof MemoryTable) ctx.table.held = () => this.held();
  }

  /** The keys holding state (in panes or windows), and the first keys' state as a sample of its size. */
  private held(): HeldState {
    const keys = new Set<KeyId>();
    const sample = new Map<KeyId, unknown[]>();
    const note = (id: KeyId, part: unknown) => {
      keys.add(id);
      const parts = sample.get(id);
      if (parts !== undefined) parts.push(part);
      else if (sample.size < HELD_SAMPLE) sample.set(id, [part]);
    };
    for (const [start, cells] of this.panes) for (const [id, cell] of cells) note(id, [start, cell.acc]);
    for (const w of this.windows) for (const [id, cell] of w.cells) note(id, [w.start, w.end, cell.acc, cell.fired]);
    return { entries: keys.size, sample: sample.entries() };
  }

  add(element: Element, key: unknown, ts: number, wBefore: number): void {
    if (this.paneMs > 0) {
      // As FixedWindowEngine: no window of the record may be complete, by its partition's
      // watermark, by the operator's, or by an earlier record of the key that fired ahead.
      const minEnd = alignedStart(ts - this.sizeMs, this.slideMs, this.offsetMs) + this.slideMs + this.sizeMs;
      if (minEnd > wBefore && minEnd > this.progress) {
        const id = keyId(key);
        if (this.firedAhead.size === 0 || !(minEnd <= (this.firedAhead.get(id) ?? Number.NEGATIVE_INFINITY))) {
          this.addToPane(id, key, element.value, ts);
          return;
        }
      }
    }
    this.addToWindows(element, key, ts, wBefore);
  }

  private addToPane(id: KeyId, key: unknown, value: unknown, ts: number): void {
    const { aggregate } = this.ctx;
    let pane = this.lastPane;
    if (pane === undefined || !(ts >= this.lastPaneStart && ts < this.lastPaneStart + this.paneMs && Number.isInteger(ts))) {
      const paneStart = alignedStart(ts, this.paneMs, this.offsetMs % this.paneMs);
      pane = this.panes.get(paneStart);
      if (pane === undefined) {
        this.panes.set(paneStart, (pane = new Map()));
        // A new pane: its windows exist from now on, so they fire.
        const last = this.slideStart(ts);
        for (let start = this.firstStart(ts, last); start <= last; start += this.slideMs) this.window(start, start + this.sizeMs);
      }
      this.lastPane = pane;
      this.lastPaneStart = paneStart;
    }
    const cell = pane.get(id);
    if (cell !== undefined) cell.acc = aggregate.add(key, value, cell.acc);
    else pane.set(id, { key, acc: aggregate.add(key, value, aggregate.init()) });
  }

  /** The grid start of the slide holding `ts`: the newest window start holding it. */
  private slideStart(ts: number): number {
    const cached = this.lastSlideStart;
    if (ts >= cached && ts < cached + this.slideMs && Number.isInteger(ts)) return cached;
    return (this.lastSlideStart = alignedStart(ts, this.slideMs, this.offsetMs));
  }

  /** The oldest window start holding `ts` (as FixedWindowEngine, past a gap between windows). */
  private firstStart(ts: number, last: number): number {
    if (!(last > ts - this.sizeMs)) return last + this.slideMs;
    let start = last;
    while (start - this.slideMs > ts - this.sizeMs) start -= this.slideMs;
    return start;
  }

  /** The held window ending at `end`, made if missing (fired already when time is past its end). */
  private window(start: number, end: number): PaneWindow {
    let w = this.lastWindow;
    if (w?.end === end) return w;
    w = this.byEnd.get(end);
    if (w !== undefined) return (this.lastWindow = w);
    w = { start, end, fired: end <= this.progress, cells: new Map() };
    this.byEnd.set(end, w);
    const ws = this.windows;
    let i = ws.length;
    ws.push(w);
    while (i > 0 && ws[i - 1].end > end) {
      ws[i] = ws[i - 1];
      i--;
    }
    ws[i] = w;
    return (this.lastWindow = w);
  }

  private addToWindows(element: Element, key: unknown, ts: number, wBefore: number): void {
    const lateness = this.ctx.latenessMs;
    const { aggregate } = this.ctx;
    let id: KeyId | undefined;
    let completeAt = 0;
    const last = this.slideStart(ts);
    for (let start = this.firstStart(ts, last); start <= last; start += this.slideMs) {
      const end = start + this.sizeMs;
      // The lateness rule of DESIGN section 4, and windows whose state is already dropped.
      if (!(end + lateness > wBefore && end + lateness > this.progress)) continue;
      if (id === undefined) {
        id = keyId(key);
        if (end <= wBefore) this.catchUp(id, key, wBefore);
        completeAt = Math.max(wBefore, this.progress);
      }
      const w = this.window(start, end);
      let cell = w.cells.get(id);
      if (cell === undefined) w.cells.set(id, (cell = { key, acc: undefined, fired: false }));
      cell.acc = aggregate.add(key, element.value, cell.acc === undefined ? aggregate.init() : cell.acc);
      if (w.fired || cell.fired || end <= completeAt) this.fireKey(w, id, cell);
    }
    if (id === undefined) this.ctx.emitter.late(element);
  }

  /** Whether the key has anything in the window (its cell, or a pane of the window). */
  private holds(w: PaneWindow, id: KeyId): boolean {
    if (w.cells.has(id)) return true;
    if (this.paneMs === 0) return false;
    for (let start = w.start; start < w.end; start += this.paneMs) if (this.panes.get(start)?.has(id) === true) return true;
    return false;
  }

  /** Fires, in end order, the key's windows not fired yet that end at or before `upTo` (see FixedWindowEngine). */
  private catchUp(id: KeyId, key: unknown, upTo: number): void {
    for (const w of this.windows) {
      if (w.end > upTo) break;
      if (w.fired || !this.holds(w, id)) continue;
      let cell = w.cells.get(id);
      if (cell === undefined) w.cells.set(id, (cell = { key, acc: undefined, fired: false }));
      if (!cell.fired) this.fireKey(w, id, cell);
    }
  }

  /** Emits the key's result of the window as complete (ahead of the operator time when the window has not fired). */
  private fireKey(w: PaneWindow, id: KeyId, cell: WindowCell): void {
    if (!w.fired) {
      cell.fired = true;
      if (!(w.end <= (this.firedAhead.get(id) ?? Number.NEGATIVE_INFINITY))) this.firedAhead.set(id, w.end);
    }
    this.emit(w, id, cell.key, cell);
  }

  private emit(w: PaneWindow, id: KeyId, key: unknown, cell: WindowCell | undefined): void {
    let value: unknown;
    try {
      value = this.valueOf(w, id, cell);
    } catch (cause) {
      // User code failed on this window: report it and go on firing the others.
      this.ctx.emitter.failed(key, w.start, w.end, cause);
      return;
    }
    this.ctx.emitter.result(key, w.start, w.end, value);
  }

  /** The key's value of the window: its panes merged in time order, then its slow-path accumulator. */
  private valueOf(w: PaneWindow, id: KeyId, cell: WindowCell | undefined): unknown {
    const aggregate = this.ctx.aggregate;
    if (this.paneMs === 0) return aggregate.result(cell!.acc);
    const merge = aggregate.merge!;
    let acc = aggregate.init();
    for (let start = w.start; start < w.end; start += this.paneMs) {
      const pane = this.panes.get(start)?.get(id);
      if (pane !== undefined) acc = merge.call(aggregate, acc, pane.acc);
    }
    if (cell?.acc !== undefined) acc = merge.call(aggregate, acc, cell.acc);
    return aggregate.result(acc);
  }

  /**
   * Fires the window for every key that has not fired it yet, keys in order of first
   * appearance: one pass over its panes merges each key's accumulators (in the order `valueOf`
   * merges them), so firing reads each pane entry once.
   */
  private fireWindow(w: PaneWindow): void {
    w.fired = true;
    const cells = w.cells;
    if (this.paneMs === 0) {
      for (const [id, cell] of cells) if (!cell.fired) this.emit(w, id, cell.key, cell);
      return;
    }
    const aggregate = this.ctx.aggregate;
    const merge = aggregate.merge!;
    const merged = new Map<KeyId, Merged>();
    const skip = cells.size > 0;
    for (let start = w.start; start < w.end; start += this.paneMs) {
      const pane = this.panes.get(start);
      if (pane === undefined) continue;
      for (const [id, p] of pane) {
        let m = merged.get(id);
        if (m === undefined) {
          if (skip && cells.get(id)?.fired === true) continue;
          merged.set(id, (m = { key: p.key, acc: undefined, failure: undefined }));
          if (!this.mergeInto(m, undefined, true)) continue;
        }
        if (m.failure === undefined) this.mergeInto(m, p.acc, false, merge);
      }
    }
    for (const [id, cell] of cells) {
      if (cell.fired) continue;
      let m = merged.get(id);
      if (m === undefined) {
        merged.set(id, (m = { key: cell.key, acc: undefined, failure: undefined }));
        if (!this.mergeInto(m, undefined, true)) continue;
      }
      if (m.failure === undefined && cell.acc !== undefined) this.mergeInto(m, cell.acc, false, merge);
    }
    const { emitter } = this.ctx;
    for (const m of merged.values()) {
      if (m.failure !== undefined) {
        emitter.failed(m.key, w.start, w.end, m.failure.cause);
        continue;
      }
      let value: unknown;
      try {
        value = aggregate.result(m.acc);
      } catch (cause) {
        emitter.failed(m.key, w.start, w.end, cause);
        continue;
      }
      emitter.result(m.key, w.start, w.end, value);
    }
  }

  /** `m.acc` = init() (with `init`), or merge(m.acc, acc); user code's failure kept in `m`. Whether it went well. */
  private mergeInto(m: Merged, acc: unknown, init: boolean, merge?: NonNullable<AggregateFunction['merge']>): boolean {
    const aggregate = this.ctx.aggregate;
    try {
      m.acc = init ? aggregate.init() : merge!.call(aggregate, m.acc, acc);
      return true;
    } catch (cause) {
      m.failure = { cause };
      return false;
    }
  }

  advance(progress: number): void {
    if (progress > this.progress) this.progress = progress;
    const t = this.progress;
    const ws = this.windows;
    for (let i = 0; i < ws.length && ws[i].end <= t; i++) if (!ws[i].fired) this.fireWindow(ws[i]);
    const lateness = this.ctx.latenessMs;
    let drop = 0;
    while (drop < ws.length && ws[drop].end + lateness <= t) this.byEnd.delete(ws[drop++].end);
    if (drop > 0) {
      ws.splice(0, drop);
      this.lastWindow = undefined;
    }
    if (this.panes.size > 0) {
      for (const start of this.panes.keys()) {
        if (this.paneUntil(start) > t) continue;
        this.panes.delete(start);
        this.lastPane = undefined;
      }
    }
    if (this.firedAhead.size > 0) for (const [id, end] of this.firedAhead) if (end <= t) this.firedAhead.delete(id);
  }

  /** A pane is needed until its last window (the one starting at or just before it) is dropped. */
  private paneUntil(paneStart: number): number {
    return alignedStart(paneStart, this.slideMs, this.offsetMs) + this.sizeMs + this.ctx.latenessMs;
  }

  emitEarly(): void {
    // Early firings run on FixedWindowEngine (see `applies`).
  }

  query(key: unknown, allKeys: boolean): WindowResult[] {
    const wanted = allKeys ? undefined : keyId(key);
    const byKey = new Map<KeyId, WindowResult[]>();
    for (const w of this.windows) {
      const keys = new Map<KeyId, unknown>();
      if (this.paneMs > 0) {
        for (let start = w.start; start < w.end; start += this.paneMs) {
          const pane = this.panes.get(start);
          if (pane !== undefined) for (const [id, p] of pane) if ((wanted === undefined || id === wanted) && !keys.has(id)) keys.set(id, p.key);
        }
      }
      for (const [id, cell] of w.cells) if ((wanted === undefined || id === wanted) && !keys.has(id)) keys.set(id, cell.key);
      for (const [id, k] of keys) {
        let results = byKey.get(id);
        if (results === undefined) byKey.set(id, (results = []));
        results.push({ key: k, start: w.start, end: w.end, value: this.valueOf(w, id, w.cells.get(id)) });
      }
    }
    return [...byKey.values()].flat();
  }

  snapshot(): PaneWindowsSnapshot {
    return {
      layout: 'panes',
      paneMs: this.paneMs,
      panes: [...this.panes].map(([start, pane]) => ({ start, cells: [...pane.values()].map(({ key, acc }) => ({ key, acc })) })),
      windows: this.windows.map((w) => ({ start: w.start, end: w.end, fired: w.fired, cells: [...w.cells.values()].map(({ key, acc, fired }) => ({ key, acc, fired })) })),
    };
  }

  restore(state: unknown, progress: number): void {
    this.panes.clear();
    this.lastPane = undefined;
    this.lastWindow = undefined;
    this.byEnd.clear();
    this.windows.length = 0;
    this.firedAhead.clear();
    this.progress = progress;
    if (state === null || state === undefined) return;
    const s: PaneWindowsSnapshot = isPaneSnapshot(state) ? state : fromKeyWindows(state as KeyWindowsSnapshot[], progress, this.paneMs);
    for (const p of s.panes) {
      const pane = new Map<KeyId, PaneCell>();
      for (const { key, acc } of p.cells) pane.set(keyId(key), { key, acc });
      this.panes.set(p.start, pane);
    }
    for (const saved of s.windows) {
      const w = this.window(saved.start, saved.end);
      w.fired = saved.fired;
      for (const { key, acc, fired } of saved.cells) {
        const id = keyId(key);
        w.cells.set(id, { key, acc, fired });
        if (fired && !w.fired && !(w.end <= (this.firedAhead.get(id) ?? Number.NEGATIVE_INFINITY))) this.firedAhead.set(id, w.end);
      }
    }
  }
}
