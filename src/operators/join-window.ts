/**
 * The window join (Flink's `a.join(b).where(f).equalTo(g).window(w).apply(fn)`): every pair of a
 * left and a right record of one key in one window, emitted when the window fires, stamped
 * `end - 1`. Inner only.
 *
 * It is a window aggregation whose accumulator is the window's records: the window operator
 * assigns (tumbling, hopping, sliding, session windows, sessions merging), applies the lateness
 * rule, fires on the watermark, keeps state in the backend's table and checkpoints it; this
 * operator wraps each input record with its time and source position, and turns each fired
 * window into its pairs. The pairs of a window come out in a fixed order (left records by
 * time, then source position; for each, the right records the same way), so the output does
 * not depend on the order records arrived in.
 *
 * @example
 * new WindowJoinOperator({ name: 'ads', window: Windows.tumbling('1m'), fn: (i, c) => ({ ad: i.adId, user: c.user }) })
 */
import type { LatenessSpec, WindowSpec } from '../time/window-spec.ts';
import type { KeyedTable } from '../state/index.ts';
import type { AggregateFunction } from './aggregate-function.ts';
import { byTime, type HeldRecord, isSided, joinFailure, LEFT, notSided, orderOf } from './join-common.ts';
import type { Element, Operator, Output } from './operator.ts';
import { type RecordErrorHandler, rethrow } from './record-error.ts';
import { WindowOperator, type WindowResult } from './window.ts';

export interface WindowJoinConfig {
  name: string;
  window: WindowSpec;
  /** Default: no allowed lateness, late records dropped (and counted). */
  lateness?: LatenessSpec;
  fn: (left: any, right: any) => unknown;
  onError?: RecordErrorHandler;
  /** Where the windows live (default the heap; the lmdb backend gives a durable table). */
  table?: KeyedTable<unknown> | undefined;
}

export interface WindowJoinSnapshot {
  version: 1;
  arrival: number;
  window: unknown;
}

/** A window's records, both sides, in arrival order (sorted when the window fires). */
const records: AggregateFunction<unknown, HeldRecord, HeldRecord[], HeldRecord[]> = {
  init: () => [],
  add: (_key, record, acc) => {
    acc.push(record);
    return acc;
  },
  merge: (a, b) => a.concat(b),
  result: (acc) => acc,
};

export class WindowJoinOperator implements Operator {
  readonly name: string;
  readonly #fn: (left: unknown, right: unknown) => unknown;
  readonly #onError: RecordErrorHandler;
  readonly #windows: WindowOperator<HeldRecord, HeldRecord[], HeldRecord[]>;
  /** The output of the call in progress; the window operator writes to `#inner`, which forwards here. */
  #out: Output | undefined;
  readonly #inner: Output<WindowResult<HeldRecord[]>>;
  /** Records taken so far: the tie-break of records that carry no source position. */
  #arrival = 0;

  constructor(config: WindowJoinConfig) {
    this.name = config.name;
    this.#fn = config.fn;
    this.#onError = config.onError ?? rethrow;
    this.#windows = new WindowOperator({
      name: config.name,
      window: config.window,
      lateness: config.lateness ?? { allowedLatenessMs: 0 },
      emit: { kind: 'final' },
      aggregate: records,
      onError: this.#onError,
      table: config.table,
    });
    this.#inner = {
      emit: (element) => this.#pairs(element),
      // Late records leave as the user's value, without the join's wrapping.
      side: (tag, element) => this.#out!.side(tag, { ...element, value: (element.value as unknown as HeldRecord).v }),
    };
  }

  /** Records that fell in no open window (dropped, or sent to the late side output). */
  get lateRecords(): number {
    return this.#windows.lateRecords;
  }

  process(batch: Element[], out: Output): void {
    this.#out = out;
    const held: Element<HeldRecord>[] = [];
    for (const element of batch) {
      const sided = element.value;
      if (!isSided(sided)) {
        this.#onError(element, notSided(this.name), this.name);
        continue;
      }
      held.push({ ...element, value: { s: sided.side, t: element.timestamp, o: orderOf(element, this.#arrival++), v: sided.value } });
    }
    if (held.length > 0) this.#windows.process(held, this.#inner);
  }

  onWatermark(watermark: number, out: Output): number {
    this.#out = out;
    return this.#windows.onWatermark(watermark, this.#inner);
  }

  /** A fired window: its pairs, each `fn(left, right)`, in (left, right) event-time order. */
  #pairs(fired: Element<WindowResult<HeldRecord[]>>): void {
    const lefts: HeldRecord[] = [];
    const rights: HeldRecord[] = [];
    for (const r of fired.value.value) (r.s === LEFT ? lefts : rights).push(r);
    if (lefts.length === 0 || rights.length === 0) return;
    lefts.sort(byTime);
    rights.sort(byTime);
    const out = this.#out!;
    const fn = this.#fn;
    for (const l of lefts) {
      for (const r of rights) {
        let value: unknown;
        try {
          value = fn(l.v, r.v);
        } catch (cause) {
          this.#onError({ ...fired, value: { key: fired.key, left: l.v, right: r.v } }, joinFailure(this.name, fired.key, l.t, r.t, cause), this.name);
          continue;
        }
        if (value !== undefined) out.emit({ value, timestamp: fired.timestamp, key: fired.key, sourceWatermark: fired.sourceWatermark });
      }
    }
  }

  snapshot(): WindowJoinSnapshot {
    return { version: 1, arrival: this.#arrival, window: this.#windows.snapshot() };
  }

  restore(snapshot: unknown): void {
    const s = snapshot as WindowJoinSnapshot;
    this.#arrival = s.arrival;
    this.#windows.restore(s.window);
  }
}
