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
    const merging: OpenWindow[] = kw.windows.filter((w) => overlaps(own, w) && w.end + lateness > wBefore && table.isOpen(w.end));
    let start = own.start;
    let end = own.end;
    for (const w of merging) {
      if (w.start < start) start = w.start;
      if (w.end > end) end = w.end;
    }
    if (merging.length === 0 && !(end + lateness > wBefore && table.isOpen(end))) {
      this.ctx.emitter.late(element);
      table.schedule(kw);
      return;
    }
    // Changing a session this partition's watermark already completed: emit what was due first.
    if (end <= wBefore || (merging.length > 0 && merging[0].end <= wBefore)) table.catchUp(kw, wBefore);
    const { aggregate } = this.ctx;
    let session: OpenWindow;
    if (merging.length === 1) {
      // The common case: the record falls in or extends one session; update it in place.
      session = merging[0];
      session.acc = aggregate.add(key, element.value, session.acc);
      if (session.start !== start || session.end !== end) {
        // A grown session is a new window: its earlier results stand, it fires again.
        session.fired = false;
        session.start = start;
        table.remove(kw, session);
        session.end = end;
        table.insert(kw, session);
      }
    } else {
      const byStart = [...merging].sort((a, b) => a.start - b.start);
      let acc = byStart.length > 0 ? byStart[0].acc : aggregate.init();
      let since = 0;
      for (let i = 0; i < byStart.length; i++) {
        if (i > 0) acc = this.merge(acc, byStart[i].acc);
        if (!byStart[i].fired) since += byStart[i].since;
      }
      acc = aggregate.add(key, element.value, acc);
      for (const w of merging) table.remove(kw, w);
      session = { start, end, acc, fired: false, since };
      table.insert(kw, session);
    }
    table.contributed(kw, session, Math.max(wBefore, table.progress));
    table.schedule(kw);
  }
}
