/**
 * A harness for one operator, as Flink's KeyedOneInputStreamOperatorTestHarness: feed records
 * and watermarks, move processing time, collect main and side output, snapshot and restore.
 */
import { parseWithInfinities, SluiceError, stringifyWithInfinities } from '../core/index.ts';
import type { Element, Operator, Output } from '../operators/index.ts';
import { ManualClock } from './clock.ts';

export interface HarnessRecord {
  key?: unknown;
  /** W_before of the record's source partition; default the last watermark given to the harness. */
  sourceWatermark?: number;
  source?: { topic: string; partition: number; offset: number };
}

/**
 * @example
 * const h = new OperatorHarness(new MapOperator('double', (n: number) => n * 2));
 * h.processElement(21, 1000);
 * h.values(); // [42]
 */
export class OperatorHarness<I = unknown, O = unknown> {
  readonly operator: Operator<I, O>;
  readonly clock: ManualClock;
  readonly output: Element<O>[] = [];
  readonly sideOutputs = new Map<string, Element[]>();
  #watermark = Number.NEGATIVE_INFINITY;
  /** Watermarks the operator forwarded, in order. */
  readonly watermarks: number[] = [];
  readonly #out: Output<O>;

  constructor(operator: Operator<I, O>, clock = new ManualClock()) {
    this.operator = operator;
    this.clock = clock;
    this.#out = {
      emit: (element) => this.output.push(element),
      side: (tag, element) => {
        const list = this.sideOutputs.get(tag) ?? [];
        list.push(element);
        this.sideOutputs.set(tag, list);
      },
    };
  }

  processElement(value: I, timestamp: number, record: HarnessRecord = {}): void {
    this.processBatch([{ value, timestamp, ...record }]);
  }

  processBatch(records: ({ value: I; timestamp: number } & HarnessRecord)[]): void {
    const batch: Element<I>[] = records.map((r) => {
      const element: Element<I> = { value: r.value, timestamp: r.timestamp, key: r.key, sourceWatermark: r.sourceWatermark ?? this.#watermark };
      if (r.source) element.source = r.source;
      return element;
    });
    this.operator.process(batch, this.#out);
  }

  processWatermark(watermark: number): void {
    this.#watermark = watermark;
    const forwarded = this.operator.onWatermark ? this.operator.onWatermark(watermark, this.#out) : watermark;
    this.watermarks.push(forwarded);
  }

  /** Sets the clock and lets the operator fire processing-time timers. */
  setProcessingTime(now: number): void {
    this.clock.set(now);
    this.operator.onProcessingTime?.(now, this.#out);
  }

  /** The values of the main output, in order. */
  values(): O[] {
    return this.output.map((e) => e.value);
  }

  side(tag: string): unknown[] {
    return (this.sideOutputs.get(tag) ?? []).map((e) => e.value);
  }

  /** Takes the output collected so far, leaving it empty. */
  takeValues(): O[] {
    const values = this.values();
    this.output.length = 0;
    return values;
  }

  snapshot(): unknown {
    if (!this.operator.snapshot) throw new SluiceError('INVALID_ARGUMENT', `operator '${this.operator.name}' keeps no state to snapshot`);
    // Through JSON, as a checkpoint stores it.
    return parseWithInfinities(stringifyWithInfinities(this.operator.snapshot()));
  }

  /** A harness over a fresh operator restored from `snapshot`. */
  static restored<I, O>(operator: Operator<I, O>, snapshot: unknown, clock = new ManualClock()): OperatorHarness<I, O> {
    operator.restore?.(snapshot);
    return new OperatorHarness(operator, clock);
  }
}
