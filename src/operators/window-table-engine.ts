/** The part of a window engine that only hands over to its window table, shared by the engines that keep one. */
import type { Element } from './operator.ts';
import type { WindowEngine, WindowResult } from './window-common.ts';
import type { KeyWindowsSnapshot, WindowTable } from './window-state.ts';

export abstract class TableWindowEngine implements WindowEngine {
  protected abstract readonly table: WindowTable;

  abstract add(element: Element, key: unknown, ts: number, wBefore: number): void;

  advance(progress: number): void {
    this.table.advance(progress);
  }

  emitEarly(): void {
    this.table.emitEarly();
  }

  query(key: unknown, allKeys: boolean): WindowResult[] {
    return this.table.query(key, allKeys);
  }

  snapshot(): KeyWindowsSnapshot[] | null {
    return this.table.snapshot();
  }

  restore(state: unknown, progress: number): void {
    this.table.restore(state as KeyWindowsSnapshot[] | null, progress);
  }
}
