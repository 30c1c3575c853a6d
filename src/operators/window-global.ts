/**
 * Global windows: one window per key over all time, emitting its running result per its
 * trigger (every N records of the key; when the watermark crosses a multiple of an interval;
 * or on every watermark advance) and once more when the input ends if it changed since.
 * Accumulating, like Flink's CountTrigger without purging: use count windows to restart.
 * Results carry the global bounds and, as timestamp, the largest event time seen for the key.
 */
import { GLOBAL_END, GLOBAL_START } from '../time/assigners.ts';
import type { TriggerSpec } from '../time/window-spec.ts';
import type { Element } from './operator.ts';
import {
  type EngineContext,
  fromJsonNumber,
  type JsonNumber,
  type KeyId,
  keyIdOf,
  toJsonNumber,
  type WindowEngine,
  type WindowResult,
} from './window-common.ts';

interface KeyGlobal {
  key: unknown;
  acc: unknown;
  /** Records since the last emission. */
  since: number;
  maxTs: number;
}

interface GlobalSnapshot {
  progress: JsonNumber;
  keys: KeyGlobal[];
  dirty: number[];
}

export class GlobalWindowEngine implements WindowEngine {
  private readonly trigger: TriggerSpec;
  private readonly ctx: EngineContext;
  private keys = new Map<KeyId, KeyGlobal>();
  /** Keys changed since their last emission, in the order they changed. */
  private dirty = new Set<KeyGlobal>();
  private progress = Number.NEGATIVE_INFINITY;

  constructor(trigger: TriggerSpec, ctx: EngineContext) {
    this.trigger = trigger;
    this.ctx = ctx;
  }

  add(element: Element, key: unknown, ts: number): void {
    const id = keyIdOf(key);
    let kg = this.keys.get(id);
    if (kg === undefined) {
      kg = { key, acc: this.ctx.aggregate.init(), since: 0, maxTs: ts };
      this.keys.set(id, kg);
    }
    kg.acc = this.ctx.aggregate.add(kg.acc, element.value, key);
    if (ts > kg.maxTs) kg.maxTs = ts;
    kg.since++;
    if (this.trigger.kind === 'count' && kg.since >= this.trigger.every) this.emit(kg);
    else this.dirty.add(kg);
  }

  private emit(kg: KeyGlobal): void {
    kg.since = 0;
    this.dirty.delete(kg);
    this.ctx.emitter.result(kg.key, GLOBAL_START, GLOBAL_END, this.ctx.aggregate.result(kg.acc), kg.maxTs);
  }

  private emitDirty(): void {
    for (const kg of [...this.dirty]) this.emit(kg);
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
    const keys = allKeys ? [...this.keys.values()] : [this.keys.get(keyIdOf(key))].filter((kg) => kg !== undefined);
    return keys.map((kg) => ({ key: kg.key, start: GLOBAL_START, end: GLOBAL_END, value: this.ctx.aggregate.result(kg.acc) }));
  }

  snapshot(): GlobalSnapshot {
    const keys = [...this.keys.values()];
    // Positions of the changed keys, in the order they changed: the order they emit in.
    const dirty = [...this.dirty].map((kg) => keys.indexOf(kg));
    return { progress: toJsonNumber(this.progress), keys, dirty };
  }

  restore(state: unknown): void {
    const s = state as GlobalSnapshot;
    this.progress = fromJsonNumber(s.progress);
    const keys = s.keys.map((kg) => ({ ...kg }));
    this.keys = new Map(keys.map((kg) => [keyIdOf(kg.key), kg]));
    this.dirty = new Set(s.dirty.map((i) => keys[i]));
  }
}
