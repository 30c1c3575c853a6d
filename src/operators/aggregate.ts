/**
 * Running (non-windowed) aggregates per key, Kafka Streams' `groupByKey().aggregate()`: each
 * record updates its key's accumulator and emits the new result `{ key, value }` (update mode).
 */
import type { Element, Operator, Output } from './operator.ts';
import { type RecordErrorHandler, rethrow } from './record-error.ts';
import { keyId } from './timers.ts';

/** An aggregate as the operators run it. */
export interface AggregateFn {
  init(): any;
  add(acc: any, value: any, key: unknown): any;
  merge?(a: any, b: any): any;
  result(acc: any): unknown;
}

/**
 * @example new RollingAggregateOperator('count-3', { init: () => 0, add: (n) => n + 1, result: (n) => n })
 */
export class RollingAggregateOperator implements Operator {
  readonly name: string;
  readonly #fn: AggregateFn;
  readonly #onError: RecordErrorHandler;
  readonly #accs = new Map<unknown, { key: unknown; acc: unknown }>();

  constructor(name: string, fn: AggregateFn, onError: RecordErrorHandler = rethrow) {
    this.name = name;
    this.#fn = fn;
    this.#onError = onError;
  }

  process(batch: Element[], out: Output): void {
    const fn = this.#fn;
    for (let i = 0; i < batch.length; i++) {
      const element = batch[i];
      const id = keyId(element.key);
      let entry = this.#accs.get(id);
      let value: unknown;
      try {
        const acc = fn.add(entry === undefined ? fn.init() : entry.acc, element.value, element.key);
        if (entry === undefined) this.#accs.set(id, (entry = { key: element.key, acc }));
        else entry.acc = acc;
        value = fn.result(acc);
      } catch (error) {
        this.#onError(element, error, this.name);
        continue;
      }
      out.emit({ ...element, value: { key: element.key, value } });
    }
  }

  snapshot(): { key: unknown; acc: unknown }[] {
    return structuredClone([...this.#accs.values()]);
  }

  restore(snapshot: unknown): void {
    this.#accs.clear();
    for (const entry of snapshot as { key: unknown; acc: unknown }[]) this.#accs.set(keyId(entry.key), { ...entry });
  }
}
