/**
 * Session windows. A record's own window is `[ts, ts + gap)`; it merges with every overlapping
 * session of its key that is not finalized for it (`end + allowedLateness > W_before`), and
 * adjacent sessions (one ending where the other starts) stay apart. Merging combines the
 * accumulators with `aggregate.merge`.
 */
import { overlaps, sessionWindow } from '../time/assigners.ts';
import type { Element } from './operator.ts';
import type { EngineContext } from './window-common.ts';
import { type OpenWindow, WindowTable } from './window-state.ts';
import { TableWindowEngine } from './window-table-engine.ts';

export class SessionWindowEngine extends TableWindowEngine {
  private readonly gapMs: number;
  private readonly ctx: EngineContext;
  protected override readonly table: WindowTable;
  private readonly merge: (a: unknown, b: unknown) => unknown;

  constructor(gapMs: number, ctx: EngineContext, trackDirty: boolean) {
    super();
    this.gapMs = gapMs;
    this.ctx = ctx;
    const { aggregate } = ctx;
    // The operator checks `merge` exists before building a session engine.
    this.merge = aggregate.merge!.bind(aggregate);
    this.table = new WindowTable(ctx, { valueOf: (_kw, w) => aggregate.result(w.acc) }, trackDirty);
  }

  add(element: Element, key: unknown, ts: number, wBefore: number): void {
    const table = this.table;
    const lateness = this.ctx.latenessMs;
    const own = sessionWindow(ts, this.gapMs);
    const kw = table.keyWindows(key);
    // One pass over the key's sessions (sorted by end): how many the record merges with, the
    // first of them, and the merged bounds; no array unless it joins several (rare).
    const windows = kw.windows;
    let merging = 0;
    let first: OpenWindow | undefined;
    let start = own.start;
    let end = own.end;
    for (let i = 0; i < windows.length; i++) {
      const w = windows[i];
      if (!(overlaps(own, w) && w.end + lateness > wBefore && table.isOpen(w.end))) continue;
      merging++;
      if (first === undefined) first = w;
      if (w.start < start) start = w.start;
      if (w.end > end) end = w.end;
    }
    if (merging === 0 && !(end + lateness > wBefore && table.isOpen(end))) {
      this.ctx.emitter.late(element);
      table.schedule(kw);
      return;
    }
    // Changing a session this partition's watermark already completed: emit what was due first.
    if (end <= wBefore || (first !== undefined && first.end <= wBefore)) table.catchUp(kw, wBefore);
    const { aggregate } = this.ctx;
    let session: OpenWindow;
    if (merging === 1) {
      // The common case: the record falls in or extends one session; update it in place.
      session = first!;
      session.acc = aggregate.add(key, element.value, session.acc);
      if (session.start !== start || session.end !== end) {
        // A grown session is a new window: its earlier results stand, it fires again.
        session.fired = false;
        session.start = start;
        session.end = end;
        table.reposition(kw, session);
      }
    } else if (merging === 0) {
      session = { start, end, acc: aggregate.add(key, element.value, aggregate.init()), fired: false, since: 0 };
      table.insert(kw, session);
    } else {
      const joined = windows.filter((w) => overlaps(own, w) && w.end + lateness > wBefore && table.isOpen(w.end));
      const byStart = joined.sort((a, b) => a.start - b.start);
      let acc = byStart[0].acc;
      let since = byStart[0].fired ? 0 : byStart[0].since;
      for (let i = 1; i < byStart.length; i++) {
        acc = this.merge(acc, byStart[i].acc);
        if (!byStart[i].fired) since += byStart[i].since;
      }
      acc = aggregate.add(key, element.value, acc);
      for (const w of byStart) table.remove(kw, w);
      session = { start, end, acc, fired: false, since };
      table.insert(kw, session);
    }
    table.contributed(kw, session, Math.max(wBefore, table.progress));
    table.schedule(kw);
  }
}
