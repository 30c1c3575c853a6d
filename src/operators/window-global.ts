/**
 * Global windows: one window per key over all time, emitting its running result per its
 * trigger (every N records of the key; when the watermark crosses a multiple of an interval;
 * or on every watermark advance) and once more when the input ends if it changed since.
 * Accumulating, like Flink's CountTrigger without purging: use count windows to restart.
 * Results carry the global bounds and, as timestamp, the largest event time seen for the key.
 */
import { GLOBAL_END, GLOBAL_START } from '../time/assigners.ts';
import type { TriggerSpec } from '../time/window-spec.ts';
import { type KeyedTable, type KeyIdValue, keyId, MemoryTable } from '../state/index.ts';
import type { Element } from './operator.ts';
import { type EngineContext, savedNumber, type WindowEngine, type WindowResult } from './window-common.ts';

interface KeyGlobal {
  key: unknown;
  acc: unknown;
  /** Records since the last emission. */
  since: number;
  maxTs: number;
}

interface GlobalSnapshot {
  /** A number (`'-inf'` in snapshots taken before infinities had one JSON encoding). */
  progress: number;
  /** Null when a durable table checkpoints the keys itself. */
  keys: KeyGlobal[] | null;
  /** Ids of the keys changed since their last emission, in the order they changed. */
  dirty: KeyIdValue[];
}

export class GlobalWindowEngine implements WindowEngine {
  private readonly trigger: TriggerSpec;
  private readonly ctx: EngineContext;
  /** Each key's window, in the state backend's table (the heap by default). */
  private readonly keys: KeyedTable<KeyGlobal>;
  /** Keys changed since their last emission, in the order they changed. */
  private dirty = new Set<KeyIdValue>();
  private progress = Number.NEGATIVE_INFINITY;

  constructor(trigger: TriggerSpec, ctx: EngineContext) {
    this.trigger = trigger;
    this.ctx = ctx;
    this.keys = (ctx.table as KeyedTable<KeyGlobal> | undefined) ?? new MemoryTable<KeyGlobal>();
  }

  add(element: Element, key: unknown, ts: number): void {
    const id = keyId(key);
    let kg = this.keys.get(id);
    if (kg === undefined) kg = { key, acc: this.ctx.aggregate.init(), since: 0, maxTs: ts };
    kg.acc = this.ctx.aggregate.add(key, element.value, kg.acc);
    if (ts > kg.maxTs) kg.maxTs = ts;
    kg.since++;
    if (this.trigger.kind === 'count' && kg.since >= this.trigger.every) this.emit(id, kg);
    else this.dirty.add(id);
    this.keys.set(id, kg);
  }

  private emit(id: KeyIdValue, kg: KeyGlobal): void {
    kg.since = 0;
    this.dirty.delete(id);
    let value: unknown;
    try {
      value = this.ctx.aggregate.result(kg.acc);
    } catch (cause) {
      this.ctx.emitter.failed(kg.key, GLOBAL_START, GLOBAL_END, cause, kg.maxTs);
      return;
    }
    this.ctx.emitter.result(kg.key, GLOBAL_START, GLOBAL_END, value, kg.maxTs);
  }

  private emitDirty(): void {
    for (const id of [...this.dirty]) {
      const kg = this.keys.get(id);
      if (kg === undefined) continue;
      this.emit(id, kg);
      this.keys.set(id, kg);
    }
  }

  advance(progress: number): void {
    const previous = this.progress;
    if (progress <= previous) return;
    this.progress = progress;
    const t = this.trigger;
    if (
      progress === Number.POSITIVE_INFINITY ||
      t.kind === 'watermark' ||
      (t.kind === 'interval' && Math.floor(progress / t.everyMs) > Math.floor(previous / t.everyMs))
    ) {
      this.emitDirty();
    }
  }

  emitEarly(): void {}

  query(key: unknown, allKeys: boolean): WindowResult[] {
    const keys = allKeys ? [...this.keys.entries()].map(([, kg]) => kg) : [this.keys.get(keyId(key))].filter((kg) => kg !== undefined);
    return keys.map((kg) => ({ key: kg.key, start: GLOBAL_START, end: GLOBAL_END, value: this.ctx.aggregate.result(kg.acc) }));
  }

  snapshot(): GlobalSnapshot {
    const keys = this.keys.durable ? null : [...this.keys.entries()].map(([, kg]) => kg);
    return { progress: this.progress, keys, dirty: [...this.dirty] };
  }

  restore(state: unknown): void {
    const s = state as GlobalSnapshot;
    this.progress = savedNumber(s.progress);
    for (const kg of s.keys ?? []) this.keys.set(keyId(kg.key), { ...kg });
    this.dirty = new Set(s.dirty);
  }
}
