/**
 * Tumbling and hopping windows: windows on a fixed grid, assigned from the record's time alone.
 *
 * Hopping windows with a `merge` aggregate use panes (as Flink and Feldera do): the grid is cut
 * into panes of gcd(size, slide), a record that no window of it is complete for yet goes into
 * its one pane, and a window's value merges its size/pane panes when it emits. A record that
 * reaches a complete window, or only some of its windows (the lateness rule), takes the slow
 * path: it is added to each window it contributes to, in the window's own accumulator, which
 * the window's value merges in too. Without `merge`, or with early firings by count, every
 * record takes the slow path (one accumulator per window and key).
 *
 * On heap state without early firings, PaneWindowEngine runs these windows instead (the same
 * rules, window-major); this engine runs on durable tables and with early firings.
 */
import { alignedStart } from '../time/assigners.ts';
import type { WindowSpec } from '../time/window-spec.ts';
import type { Element } from './operator.ts';
import type { EngineContext } from './window-common.ts';
import { type KeyWindows, type OpenWindow, WindowTable } from './window-state.ts';
import { TableWindowEngine } from './window-table-engine.ts';
import { isPaneSnapshot, toKeyWindows } from './window-panes-snapshot.ts';

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Panes of a key: pane start -> accumulator. Saved in snapshots as `[start, acc]` pairs. */
type Panes = Map<number, unknown>;

export class FixedWindowEngine extends TableWindowEngine {
  private readonly ctx: EngineContext;
  protected override readonly table: WindowTable;
  private readonly sizeMs: number;
  private readonly slideMs: number;
  private readonly offsetMs: number;
  /** Pane length, 0 when panes are off. */
  private readonly paneMs: number;

  constructor(spec: WindowSpec & { kind: 'tumbling' | 'hopping' }, ctx: EngineContext, trackDirty: boolean) {
    super();
    this.ctx = ctx;
    this.sizeMs = spec.sizeMs;
    this.slideMs = spec.kind === 'hopping' ? spec.slideMs : spec.sizeMs;
    this.offsetMs = spec.offsetMs;
    const panes = spec.kind === 'hopping' && spec.slideMs < spec.sizeMs && ctx.aggregate.merge !== undefined && ctx.earlyEvery === 0 && !trackDirty;
    this.paneMs = panes ? gcd(this.sizeMs, this.slideMs) : 0;
    this.table = new WindowTable(
      ctx,
      {
        valueOf: (kw, w) => this.windowValue(kw, w),
        expireExtra: (kw, t) => this.expirePanes(kw, t),
        saveExtra: (panes) => [...(panes as Panes)],
        loadExtra: (saved) => new Map(saved as [number, unknown][]),
      },
      trackDirty,
    );
  }

  private windowValue(kw: KeyWindows, w: OpenWindow): unknown {
    const aggregate = this.ctx.aggregate;
    if (this.paneMs === 0) return aggregate.result(w.acc);
    const merge = aggregate.merge!;
    const panes = kw.extra as Panes | undefined;
    let acc = aggregate.init();
    if (panes !== undefined) {
      for (let start = w.start; start < w.end; start += this.paneMs) {
        const pane = panes.get(start);
        if (pane !== undefined) acc = merge.call(aggregate, acc, pane);
      }
    }
    if (w.acc !== undefined) acc = merge.call(aggregate, acc, w.acc);
    return aggregate.result(acc);
  }

  /** A pane is needed until its last window (the one starting at or just before it) is dropped. */
  private paneUntil(paneStart: number): number {
    return alignedStart(paneStart, this.slideMs, this.offsetMs) + this.sizeMs + this.ctx.latenessMs;
  }

  private expirePanes(kw: KeyWindows, t: number): void {
    const panes = kw.extra as Panes;
    let until = Number.POSITIVE_INFINITY;
    for (const start of panes.keys()) {
      const u = this.paneUntil(start);
      if (u <= t) panes.delete(start);
      else if (u < until) until = u;
    }
    if (panes.size === 0) kw.extra = undefined;
    kw.extraUntil = until;
  }

  /** Also restores the window-major layout of PaneWindowEngine (heap state without early firings). */
  override restore(state: unknown, progress: number): void {
    super.restore(isPaneSnapshot(state) ? toKeyWindows(state, this.paneMs, (start) => this.paneUntil(start), this.ctx.aggregate) : state, progress);
  }

  add(element: Element, key: unknown, ts: number, wBefore: number): void {
    if (this.paneMs > 0) {
      // The earliest window holding ts is the first grid start after ts - size. None of the
      // record's windows may be complete, by its partition's watermark, by the operator's, or by
      // an earlier late record of the key that fired windows ahead of the operator watermark.
      const minEnd = alignedStart(ts - this.sizeMs, this.slideMs, this.offsetMs) + this.slideMs + this.sizeMs;
      if (minEnd > wBefore && minEnd > this.table.progress) {
        const kw = this.table.keyWindows(key);
        if (minEnd > kw.firedUpTo) {
          this.addToPane(kw, element, key, ts);
          return;
        }
      }
    }
    this.addToWindows(element, key, ts, wBefore);
  }

  /** Fast path: no window of the record is complete, so it belongs in every one: in its pane. */
  private addToPane(kw: KeyWindows, element: Element, key: unknown, ts: number): void {
    const { aggregate } = this.ctx;
    let panes = kw.extra as Panes | undefined;
    if (panes === undefined) kw.extra = panes = new Map();
    const paneStart = alignedStart(ts, this.paneMs, this.offsetMs % this.paneMs);
    const pane = panes.get(paneStart);
    if (pane !== undefined) {
      panes.set(paneStart, aggregate.add(key, element.value, pane));
      return;
    }
    // A new pane: make sure its windows exist so they fire (they do if any earlier pane of theirs did).
    panes.set(paneStart, aggregate.add(key, element.value, aggregate.init()));
    for (let start = this.firstStart(ts), last = alignedStart(ts, this.slideMs, this.offsetMs); start <= last; start += this.slideMs) {
      const end = start + this.sizeMs;
      if (this.table.find(kw, start, end) === undefined) this.table.insert(kw, { start, end, acc: undefined, fired: false, since: 0 });
    }
    kw.extraUntil = Math.min(kw.extraUntil, this.paneUntil(paneStart));
    this.table.schedule(kw);
  }

  /**
   * The start of the oldest window holding `ts` (the others follow every slide, up to the one
   * starting at `alignedStart(ts)`); past that one when a gap between windows holds `ts`.
   */
  private firstStart(ts: number): number {
    const last = alignedStart(ts, this.slideMs, this.offsetMs);
    if (!(last > ts - this.sizeMs)) return last + this.slideMs;
    let start = last;
    while (start - this.slideMs > ts - this.sizeMs) start -= this.slideMs;
    return start;
  }

  /** Adds the record to each of its windows it contributes to, in end order; no array per record. */
  private addToWindows(element: Element, key: unknown, ts: number, wBefore: number): void {
    const table = this.table;
    const lateness = this.ctx.latenessMs;
    const { aggregate } = this.ctx;
    let kw: KeyWindows | undefined;
    let completeAt = 0;
    for (let start = this.firstStart(ts), last = alignedStart(ts, this.slideMs, this.offsetMs); start <= last; start += this.slideMs) {
      const end = start + this.sizeMs;
      // The lateness rule of DESIGN section 4, and windows whose state is already dropped.
      if (!(end + lateness > wBefore && table.isOpen(end))) continue;
      if (kw === undefined) {
        kw = table.keyWindows(key);
        if (end <= wBefore) table.catchUp(kw, wBefore);
        completeAt = Math.max(wBefore, table.progress);
      }
      let w = table.find(kw, start, end);
      if (w === undefined) {
        w = { start, end, acc: undefined, fired: false, since: 0 };
        table.insert(kw, w);
      }
      w.acc = aggregate.add(key, element.value, w.acc === undefined ? aggregate.init() : w.acc);
      table.contributed(kw, w, completeAt);
    }
    if (kw === undefined) {
      this.ctx.emitter.late(element);
      return;
    }
    table.schedule(kw);
  }
}
