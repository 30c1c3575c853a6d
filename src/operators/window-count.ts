/**
 * Count windows, by record position within a key: window `k` covers positions
 * `[k * slide, k * slide + size)` (tumbling is slide = size) and fires when its last record
 * arrives. When the input ends (watermark +Infinity), the first incomplete window fires if it
 * holds a record no fired window held: count-tumbling of 3 over 1..10 ends with 10, while
 * count-sliding of 3 by 1 ends with the full window 8+9+10. Results carry `start`/`end` as
 * record positions and, as their timestamp, the largest event time among their records.
 * Counting follows arrival order, so with several input partitions it depends on how their
 * records interleave.
 */
import type { Element } from './operator.ts';
import { type KeyedTable, keyId, MemoryTable } from '../state/index.ts';
import type { EngineContext, WindowEngine, WindowResult } from './window-common.ts';

interface CountWindow {
  start: number;
  acc: unknown;
  maxTs: number;
}

interface KeyCounts {
  key: unknown;
  /** Position of the key's next record. */
  next: number;
  /** Windows started and not yet full, oldest first. */
  open: CountWindow[];
  /** Positions below this are in some fired window. */
  covered: number;
}

export class CountWindowEngine implements WindowEngine {
  private readonly size: number;
  private readonly slide: number;
  private readonly ctx: EngineContext;
  /** Each key's count windows, in the state backend's table (the heap by default). */
  private readonly keys: KeyedTable<KeyCounts>;
  private ended = false;

  constructor(size: number, slide: number, ctx: EngineContext) {
    this.size = size;
    this.slide = slide;
    this.ctx = ctx;
    this.keys = (ctx.table as KeyedTable<KeyCounts> | undefined) ?? new MemoryTable<KeyCounts>();
  }

  add(element: Element, key: unknown, ts: number): void {
    const id = keyId(key);
    const kc = this.keys.get(id) ?? { key, next: 0, open: [], covered: 0 };
    const { aggregate } = this.ctx;
    const position = kc.next;
    // The new window's accumulator first: an aggregate that throws on this record leaves the key as it was.
    const opened = position % this.slide === 0 ? { start: position, acc: aggregate.add(key, element.value, aggregate.init()), maxTs: ts } : undefined;
    for (const w of kc.open) {
      w.acc = aggregate.add(key, element.value, w.acc);
      if (ts > w.maxTs) w.maxTs = ts;
    }
    if (opened !== undefined) kc.open.push(opened);
    kc.next = position + 1;
    this.keys.set(id, kc);
    const first = kc.open[0];
    if (first.start + this.size - 1 === position) {
      kc.open.shift();
      kc.covered = first.start + this.size;
      this.emit(kc, first, kc.covered);
    }
  }

  private emit(kc: KeyCounts, w: CountWindow, end: number): void {
    let value: unknown;
    try {
      value = this.ctx.aggregate.result(w.acc);
    } catch (cause) {
      this.ctx.emitter.failed(kc.key, w.start, end, cause, w.maxTs);
      return;
    }
    this.ctx.emitter.result(kc.key, w.start, end, value, w.maxTs);
  }

  advance(progress: number): void {
    if (progress !== Number.POSITIVE_INFINITY || this.ended) return;
    this.ended = true;
    for (const [id, kc] of [...this.keys.entries()]) {
      if (kc.open.length > 0 && kc.next > kc.covered) {
        this.emit(kc, kc.open[0], kc.next);
        kc.covered = kc.next;
        this.keys.set(id, kc);
      }
    }
  }

  emitEarly(): void {}

  query(key: unknown, allKeys: boolean): WindowResult[] {
    const keys = allKeys ? [...this.keys.entries()].map(([, kc]) => kc) : [this.keys.get(keyId(key))].filter((kc) => kc !== undefined);
    return keys.flatMap((kc) =>
      kc.open.map((w) => ({ key: kc.key, start: w.start, end: Math.min(kc.next, w.start + this.size), value: this.ctx.aggregate.result(w.acc) })),
    );
  }

  /** The keys are left out (null) when a durable table checkpoints them itself. */
  snapshot(): { ended: boolean; keys: KeyCounts[] | null } {
    return { ended: this.ended, keys: this.keys.durable ? null : [...this.keys.entries()].map(([, kc]) => kc) };
  }

  restore(state: unknown): void {
    const s = state as { ended: boolean; keys: KeyCounts[] | null };
    this.ended = s.ended;
    for (const kc of s.keys ?? []) this.keys.set(keyId(kc.key), { ...kc, open: kc.open.map((w) => ({ ...w })) });
  }
}
