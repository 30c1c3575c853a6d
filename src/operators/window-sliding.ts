/**
 * Sliding (lookback) windows. A record at `ts` opens the window `[ts - lookback, ts + 1)`; a
 * window holds every record of its key in that range that may contribute to it (the lateness
 * rule with the record's own `W_before`). Since a record may fall in windows opened after it,
 * each key keeps its records for one lookback (plus lateness), and a window aggregates its
 * records when it emits: O(records in the lookback) per emission.
 */
import { slidingWindow } from '../time/assigners.ts';
import type { Element } from './operator.ts';
import { type EngineContext, savedNumber } from './window-common.ts';
import { type KeyWindows, type OpenWindow, WindowTable } from './window-state.ts';
import { TableWindowEngine } from './window-table-engine.ts';

interface Buffered {
  ts: number;
  value: unknown;
  /**
   * The record contributes only to windows ending after this (`W_before - allowedLateness`).
   * State written before infinities had one JSON encoding holds `'-inf'`/`'inf'` here.
   */
  cutoff: number;
}

export class SlidingWindowEngine extends TableWindowEngine {
  private readonly lookbackMs: number;
  private readonly ctx: EngineContext;
  protected override readonly table: WindowTable;

  constructor(lookbackMs: number, ctx: EngineContext, trackDirty: boolean) {
    super();
    this.lookbackMs = lookbackMs;
    this.ctx = ctx;
    this.table = new WindowTable(
      ctx,
      { valueOf: (kw, w) => this.windowValue(kw, w), expireExtra: (kw, t) => this.expire(kw, t) },
      trackDirty,
    );
  }

  private windowValue(kw: KeyWindows, w: OpenWindow): unknown {
    const { aggregate } = this.ctx;
    let acc = aggregate.init();
    for (const r of kw.extra as Buffered[]) {
      if (typeof r.cutoff !== 'number') r.cutoff = savedNumber(r.cutoff);
      if (r.ts >= w.start && r.ts < w.end && w.end > r.cutoff) acc = aggregate.add(kw.key, r.value, acc);
    }
    return aggregate.result(acc);
  }

  /** Last moment any window can still take a record at `ts`: its latest window's end plus lateness. */
  private holdUntil(ts: number): number {
    return ts + this.lookbackMs + 1 + this.ctx.latenessMs;
  }

  private expire(kw: KeyWindows, t: number): void {
    const kept = (kw.extra as Buffered[]).filter((r) => this.holdUntil(r.ts) > t);
    kw.extra = kept.length > 0 ? kept : undefined;
    kw.extraUntil = kept.reduce((min, r) => Math.min(min, this.holdUntil(r.ts)), Number.POSITIVE_INFINITY);
  }

  add(element: Element, key: unknown, ts: number, wBefore: number): void {
    const table = this.table;
    const lateness = this.ctx.latenessMs;
    const accepts = (end: number) => end + lateness > wBefore && table.isOpen(end);
    const maxEnd = ts + this.lookbackMs + 1;
    // Late: no window holding the record (ends ts + 1 .. maxEnd) can take it, now or later.
    if (!accepts(maxEnd)) {
      this.ctx.emitter.late(element);
      return;
    }
    const kw = table.keyWindows(key);
    const own = slidingWindow(ts, this.lookbackMs);
    const targets = kw.windows.filter((w) => w.end > ts && w.end <= maxEnd && accepts(w.end));
    const opens = accepts(own.end) && table.find(kw, own.start, own.end) === undefined;
    if ((opens && own.end <= wBefore) || (targets.length > 0 && targets[0].end <= wBefore)) table.catchUp(kw, wBefore);
    const buffer = (kw.extra as Buffered[] | undefined) ?? [];
    buffer.push({ ts, value: element.value, cutoff: wBefore - lateness });
    kw.extra = buffer;
    kw.extraUntil = Math.min(kw.extraUntil, this.holdUntil(ts));
    const completeAt = Math.max(wBefore, table.progress);
    if (opens) {
      const w: OpenWindow = { start: own.start, end: own.end, acc: null, fired: false, since: 0 };
      table.insert(kw, w);
      targets.push(w);
      targets.sort((a, b) => a.end - b.end);
    }
    for (const w of targets) table.contributed(kw, w, completeAt);
    table.schedule(kw);
  }
}
