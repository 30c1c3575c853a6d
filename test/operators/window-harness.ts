/**
 * A one-operator harness for the window operator (as Flink's operator test harnesses): feed
 * batches, watermarks and processing time, collect results and side outputs, snapshot and
 * restore. Source partitions compute each record's `sourceWatermark` with the real
 * bounded-out-of-orderness generator, record by record.
 */
import { parseWithInfinities, stringifyWithInfinities } from '../../src/core/index.ts';
import type { Element, Output } from '../../src/operators/operator.ts';
import { WindowOperator, type WindowOperatorConfig, type WindowResult } from '../../src/operators/window.ts';
import { BoundedOutOfOrderness } from '../../src/time/index.ts';

export interface Emitted {
  key: unknown;
  start: number;
  end: number;
  value: unknown;
}

export class Harness {
  op: WindowOperator;
  readonly config: WindowOperatorConfig;
  readonly results: Element<WindowResult>[] = [];
  readonly late: Element[] = [];
  readonly output: Output<WindowResult>;

  constructor(config: WindowOperatorConfig<any, any, any>) {
    this.config = config;
    this.op = new WindowOperator(config);
    this.output = {
      emit: (element) => this.results.push(element),
      side: (tag, element) => {
        if (tag !== config.lateness?.lateSideOutput) throw new Error(`unexpected side output ${tag}`);
        this.late.push(element);
      },
    };
  }

  feed(batch: Element[]): this {
    this.op.process(batch, this.output);
    return this;
  }

  watermark(w: number): this {
    this.op.onWatermark(w, this.output);
    return this;
  }

  time(now: number): this {
    this.op.onProcessingTime(now, this.output);
    return this;
  }

  /** Results as `{ key, start, end, value }`, in emission order. */
  emitted(): Emitted[] {
    return this.results.map((e) => ({ ...e.value }));
  }

  /** Results as compact strings `key [start,end) value`, in emission order. */
  lines(): string[] {
    return this.results.map((e) => `${String(e.value.key)} [${e.value.start},${e.value.end}) ${JSON.stringify(e.value.value)}`);
  }

  /** Replaces the operator by a fresh one restored from a JSON round trip of a snapshot. */
  restart(): this {
    const saved = parseWithInfinities(stringifyWithInfinities(this.op.snapshot()));
    this.op = new WindowOperator(this.config);
    this.op.restore(saved);
    return this;
  }
}

/** One source partition: stamps records with `W_before` as the partition's generator advances. */
export class Partition {
  private readonly generator: BoundedOutOfOrderness;
  readonly id: number;

  constructor(boundMs: number, id = 0) {
    this.generator = new BoundedOutOfOrderness(boundMs);
    this.id = id;
  }

  record<T>(value: T, timestamp: number, key: unknown = 'k'): Element<T> {
    return { value, timestamp, key, sourceWatermark: this.generator.observe(timestamp), source: { topic: 't', partition: this.id, offset: 0 } };
  }

  get watermark(): number {
    return this.generator.watermark;
  }
}

export const sum = {
  init: () => 0,
  add: (_key: unknown, v: number, acc: number) => acc + v,
  merge: (a: number, b: number) => a + b,
  result: (acc: number) => acc,
};

export const count = {
  init: () => 0,
  add: (_key: unknown, _v: unknown, acc: number) => acc + 1,
  merge: (a: number, b: number) => a + b,
  result: (acc: number) => acc,
};

/** Collects values in arrival order: an order-sensitive aggregate. */
export const collect = {
  init: (): unknown[] => [],
  add: (_key: unknown, v: unknown, acc: unknown[]) => [...acc, v],
  merge: (a: unknown[], b: unknown[]) => [...a, ...b],
  result: (acc: unknown[]) => acc,
};
