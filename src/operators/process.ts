/**
 * Keyed process functions (Flink's KeyedProcessFunction): user code sees each record of a key
 * with that key's state and timers. Event-time timers fire when the operator's watermark
 * reaches them, processing-time timers when the clock does, in time order.
 */
import { SluiceError } from '../core/errors.ts';
import { type Element, type Operator, type Output, positionOf } from './operator.ts';
import { type KeyedTable, type KeyEntry, KeyedStateStore, type KeyedStateSnapshot, MemoryTable, type StateOptions } from '../state/index.ts';
import { describeKey, type RecordErrorHandler, rethrow } from './record-error.ts';
import { KeyedTimers, type KeyTimes, type SavedTimers, type Timer } from './keyed-timers.ts';
import type { IndexedTimer, OrderedTable } from './timer-index.ts';

/** The process function as this operator calls it (the api types it for users). */
export interface KeyedProcessFunction {
  processElement(value: any, ctx: any): void;
  onTimer?(timestamp: number, ctx: any): void;
}

export interface ProcessOperatorOptions {
  name: string;
  fn: KeyedProcessFunction;
  /** Processing-time clock, epoch ms. */
  now?: () => number;
  onError?: RecordErrorHandler;
  /** Where keyed state lives (default a heap table, saved inside the snapshot). */
  table?: KeyedTable<KeyEntry>;
  /** Durable tables for the timers of each domain (lmdb); by default the snapshot lists them. */
  timerTables?: { event: KeyedTable<KeyTimes>; processing: KeyedTable<KeyTimes> };
  /** Durable time indexes beside `timerTables`: then only the earliest timers are in the heap (keyed-timers.ts). */
  timerIndexes?: { event: OrderedTable<IndexedTimer>; processing: OrderedTable<IndexedTimer> };
  /** Timers each domain keeps in the heap at most, with time indexes (default keyed-timers.ts HEAP_TIMERS). */
  timerHeapLimit?: number;
}

export interface ProcessSnapshot {
  state: KeyedStateSnapshot;
  eventTimers: Timer[];
  processingTimers: Timer[];
  /** Durable timers: their counts and next registration orders (absent in snapshots taken before time indexes). */
  timers?: { event: SavedTimers; processing: SavedTimers };
  /** Null in snapshots taken before infinities had one JSON encoding (core's marks). */
  watermark: number | null;
}

/**
 * @example
 * new ProcessOperator({ name: 'fraud', fn: { processElement(tx, ctx) { if (tx.amount > 1000) ctx.emit(tx); } } })
 */
export class ProcessOperator implements Operator {
  readonly name: string;
  readonly #fn: KeyedProcessFunction;
  readonly #now: () => number;
  readonly #onError: RecordErrorHandler;
  readonly #state: KeyedStateStore;
  readonly #eventTimers: KeyedTimers;
  readonly #processingTimers: KeyedTimers;
  #watermark = Number.NEGATIVE_INFINITY;
  // The context is one object, re-pointed at each record or timer: no allocation per call.
  #key: unknown;
  #timestamp = 0;
  #sourceWatermark = Number.NEGATIVE_INFINITY;
  /** The record being processed (its source position goes on what it emits); undefined for timers. */
  #from: Element | undefined;
  #out: Output | undefined;
  #timeDomain: 'event' | 'processing' = 'event';
  readonly #ctx: object;

  constructor(options: ProcessOperatorOptions) {
    this.name = options.name;
    this.#fn = options.fn;
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? rethrow;
    this.#state = new KeyedStateStore(options.table ?? new MemoryTable(), this.#now);
    const heap = options.timerHeapLimit === undefined ? {} : { heapLimit: options.timerHeapLimit };
    this.#eventTimers = new KeyedTimers(options.timerTables?.event, options.timerIndexes?.event, heap);
    this.#processingTimers = new KeyedTimers(options.timerTables?.processing, options.timerIndexes?.processing, heap);
    const self = this;
    const state = this.#state;
    const timers = {
      registerEventTime: (t: number) => this.#eventTimers.register(t, this.#key),
      deleteEventTime: (t: number) => this.#eventTimers.delete(t, this.#key),
      registerProcessingTime: (t: number) => this.#processingTimers.register(t, this.#key),
      deleteProcessingTime: (t: number) => this.#processingTimers.delete(t, this.#key),
    };
    this.#ctx = {
      get key() {
        return self.#key;
      },
      get timestamp() {
        return self.#timestamp;
      },
      get watermark() {
        return self.#watermark;
      },
      get timeDomain() {
        return self.#timeDomain;
      },
      now: () => this.#now(),
      state: { value: (n: string, o?: StateOptions) => state.value(n, o), list: (n: string, o?: StateOptions) => state.list(n, o), map: (n: string, o?: StateOptions) => state.map(n, o) },
      timers,
      emit: (value: unknown) => this.#out!.emit(this.#element(value)),
      output: (tag: string, value: unknown) => this.#out!.side(tag, this.#element(value)),
    };
  }

  #element(value: unknown): Element {
    const element: Element = { value, timestamp: this.#timestamp, key: this.#key, sourceWatermark: this.#sourceWatermark };
    const source = positionOf(this.#from);
    if (source !== undefined) element.source = source;
    return element;
  }

  process(batch: Element[], out: Output): void {
    this.#out = out;
    for (let i = 0; i < batch.length; i++) {
      const element = batch[i];
      if (this.#eventTimers.size > 0 && element.sourceWatermark > this.#watermark) this.#fireKey(element);
      this.#key = element.key;
      this.#timestamp = element.timestamp;
      this.#sourceWatermark = element.sourceWatermark;
      this.#from = element;
      this.#state.setKey(element.key);
      try {
        this.#fn.processElement(element.value, this.#ctx);
      } catch (error) {
        this.#onError(element, error, this.name);
      }
    }
  }

  /** Fires the element's key's event-time timers that its W_before has passed. */
  #fireKey(element: Element): void {
    const onTimer = this.#fn.onTimer;
    for (let timer = this.#eventTimers.pollDueForKey(element.sourceWatermark, element.key); timer !== undefined; timer = this.#eventTimers.pollDueForKey(element.sourceWatermark, element.key)) {
      if (onTimer === undefined) continue;
      this.#key = timer.key;
      this.#timestamp = timer.time;
      this.#sourceWatermark = element.sourceWatermark;
      this.#from = undefined;
      this.#state.setKey(timer.key);
      try {
        onTimer.call(this.#fn, timer.time, this.#ctx);
      } catch (error) {
        this.#timerFailed(timer, error);
      }
    }
  }

  /**
   * onTimer threw: reported as a record of its own, `{ key, timer }` at the timer's time, so
   * dead-letter mode writes it to the dead-letter topic and goes on, as a window that fails to fire.
   */
  #timerFailed(timer: Timer, cause: unknown): void {
    const element: Element = { value: { key: timer.key, timer: timer.time }, timestamp: timer.time, key: timer.key, sourceWatermark: this.#sourceWatermark };
    const message = cause instanceof Error ? cause.message : String(cause);
    const error = new SluiceError('USER_FUNCTION_FAILED', `onTimer of '${this.name}' threw for key ${describeKey(timer.key)} at timer ${timer.time}: ${message}`, { cause, operator: this.name });
    this.#onError(element, error, this.name);
  }

  onWatermark(watermark: number, out: Output): number {
    if (watermark > this.#watermark) this.#watermark = watermark;
    this.#fire(this.#eventTimers, this.#watermark, 'event', out);
    return this.#watermark;
  }

  onProcessingTime(now: number, out: Output): void {
    this.#fire(this.#processingTimers, now, 'processing', out);
  }

  #fire(queue: KeyedTimers, upTo: number, domain: 'event' | 'processing', out: Output): void {
    const onTimer = this.#fn.onTimer;
    if (onTimer === undefined) {
      while (queue.pollDue(upTo) !== undefined);
      return;
    }
    this.#out = out;
    this.#timeDomain = domain;
    this.#from = undefined;
    for (let timer = queue.pollDue(upTo); timer !== undefined; timer = queue.pollDue(upTo)) {
      this.#key = timer.key;
      this.#timestamp = timer.time;
      this.#sourceWatermark = this.#watermark;
      this.#state.setKey(timer.key);
      try {
        onTimer.call(this.#fn, timer.time, this.#ctx);
      } catch (error) {
        this.#timerFailed(timer, error);
      }
    }
    this.#timeDomain = 'event';
  }

  snapshot(): ProcessSnapshot {
    // Each checkpoint sweeps a slice of a durable table for expired TTL state.
    this.#state.sweep(10_000);
    return {
      state: this.#state.snapshot(),
      // Durable timers are checkpointed with their keys in the state backend.
      eventTimers: this.#eventTimers.durable ? [] : this.#eventTimers.list(),
      processingTimers: this.#processingTimers.durable ? [] : this.#processingTimers.list(),
      ...(this.#eventTimers.durable ? { timers: { event: this.#eventTimers.saved(), processing: this.#processingTimers.saved() } } : {}),
      watermark: this.#watermark,
    };
  }

  restore(snapshot: unknown): void {
    const s = snapshot as ProcessSnapshot;
    this.#state.restore(s.state);
    for (const t of s.eventTimers) this.#eventTimers.register(t.time, t.key);
    for (const t of s.processingTimers) this.#processingTimers.register(t.time, t.key);
    this.#eventTimers.reload(s.timers?.event);
    this.#processingTimers.reload(s.timers?.processing);
    // Snapshots taken before infinities had one JSON encoding wrote a watermark at -Infinity as null.
    this.#watermark = s.watermark ?? Number.NEGATIVE_INFINITY;
  }
}
