/**
 * Running (non-windowed) aggregates per key, Kafka Streams' `groupByKey().aggregate()`: each
 * record updates its key's accumulator and emits the new result `{ key, value }` (update mode).
 */
import type { Element, Operator, Output } from './operator.ts';
import { type RecordErrorHandler, rethrow } from './record-error.ts';
import { type KeyedTable, keyId, MemoryTable } from '../state/index.ts';

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
  readonly #accs: KeyedTable<{ key: unknown; acc: unknown }>;

  constructor(name: string, fn: AggregateFn, onError: RecordErrorHandler = rethrow, table: KeyedTable<{ key: unknown; acc: unknown }> = new MemoryTable()) {
    this.name = name;
    this.#fn = fn;
    this.#onError = onError;
    this.#accs = table;
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
        if (entry === undefined) entry = { key: element.key, acc };
        else entry.acc = acc;
        this.#accs.set(id, entry);
        value = fn.result(acc);
      } catch (error) {
        this.#onError(element, error, this.name);
        continue;
      }
      out.emit({ ...element, value: { key: element.key, value } });
    }
  }

  /** The accumulators, unless a durable table checkpoints them itself (then null). */
  snapshot(): { key: unknown; acc: unknown }[] | null {
    if (this.#accs.durable) return null;
    return structuredClone([...this.#accs.entries()].map(([, entry]) => entry));
  }

  restore(snapshot: unknown): void {
    if (snapshot === null) return;
    for (const entry of snapshot as { key: unknown; acc: unknown }[]) this.#accs.set(keyId(entry.key), structuredClone(entry));
  }
}
