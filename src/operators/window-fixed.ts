/**
 * Tumbling and hopping windows: windows on a fixed grid, assigned from the record's time alone,
 * with one accumulator per window and key.
 */
import { assignWindows } from '../time/assigners.ts';
import type { WindowSpec } from '../time/window-spec.ts';
import type { Element } from './operator.ts';
import type { EngineContext, WindowEngine } from './window-common.ts';
import { type KeyWindowsSnapshot, WindowTable } from './window-state.ts';

export class FixedWindowEngine implements WindowEngine {
  private readonly spec: WindowSpec;
  private readonly ctx: EngineContext;
  private readonly table: WindowTable;

  constructor(spec: WindowSpec, ctx: EngineContext, trackDirty: boolean) {
    this.spec = spec;
    this.ctx = ctx;
    const { aggregate } = ctx;
    this.table = new WindowTable(ctx, { valueOf: (_kw, w) => aggregate.result(w.acc) }, trackDirty);
  }

  add(element: Element, key: unknown, ts: number, wBefore: number): void {
    const table = this.table;
    const lateness = this.ctx.latenessMs;
    // The lateness rule of DESIGN section 4, and windows whose state is already dropped.
    const targets = assignWindows(this.spec, ts).filter((w) => w.end + lateness > wBefore && table.isOpen(w.end));
    if (targets.length === 0) {
      this.ctx.emitter.late(element);
      return;
    }
    const kw = table.keyWindows(key);
    if (targets[0].end <= wBefore) table.catchUp(kw, wBefore);
    const completeAt = Math.max(wBefore, table.progress);
    const { aggregate } = this.ctx;
    for (const target of targets) {
      let w = table.find(kw, target.start, target.end);
      if (w === undefined) {
        w = { start: target.start, end: target.end, acc: aggregate.init(), fired: false, since: 0 };
        table.insert(kw, w);
      }
      w.acc = aggregate.add(w.acc, element.value, key);
      table.contributed(kw, w, completeAt);
    }
    table.schedule(kw);
  }

  advance(progress: number): void {
    this.table.advance(progress);
  }

  emitEarly(): void {
    this.table.emitEarly();
  }

  snapshot(): KeyWindowsSnapshot[] {
    return this.table.snapshot();
  }

  restore(state: unknown, progress: number): void {
    this.table.restore(state as KeyWindowsSnapshot[], progress);
  }
}
