/**
 * Running (non-windowed) aggregates per key, Kafka Streams' `groupByKey().aggregate()`: each
 * record updates its key's accumulator and emits the new result `{ key, value }` (update mode).
 */
import type { AggregateFunction } from './aggregate-function.ts';
import type { Element, Operator, Output } from './operator.ts';
import { type RecordErrorHandler, rethrow } from './record-error.ts';
import { type KeyedTable, keyId, MemoryTable } from '../state/index.ts';

/**
 * @example new RollingAggregateOperator('count-3', aggregates.count())
 */
export class RollingAggregateOperator implements Operator {
  readonly name: string;
  readonly #fn: AggregateFunction;
  readonly #onError: RecordErrorHandler;
  readonly #accs: KeyedTable<{ key: unknown; acc: unknown }>;

  constructor(name: string, fn: AggregateFunction, onError: RecordErrorHandler = rethrow, table: KeyedTable<{ key: unknown; acc: unknown }> = new MemoryTable()) {
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
        const acc = fn.add(element.key, element.value, entry === undefined ? fn.init() : entry.acc);
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
