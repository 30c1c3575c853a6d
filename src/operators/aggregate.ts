/**
 * Running (non-windowed) aggregates per key, Kafka Streams' `groupByKey().aggregate()`: a table
 * of one accumulator per key. Each record updates its key's accumulator and emits the change
 * `{ key, value, previous }` (the new result and the one it replaced, null for a new key), as
 * every table does (operators/table.ts).
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
      let previous: unknown = null;
      try {
        if (entry !== undefined) previous = own(fn.result(entry.acc));
        const acc = fn.add(element.key, element.value, entry === undefined ? fn.init() : entry.acc);
        if (entry === undefined) entry = { key: element.key, acc };
        else entry.acc = acc;
        this.#accs.set(id, entry);
        value = own(fn.result(acc));
      } catch (error) {
        this.#onError(element, error, this.name);
        continue;
      }
      out.emit({ ...element, value: { key: element.key, value, previous } });
    }
  }

  /** The current result of `key`, or undefined (a queryable table reads it). */
  get(key: unknown): unknown {
    const entry = this.#accs.get(keyId(key));
    return entry === undefined ? undefined : this.#fn.result(entry.acc);
  }

  /** Every key's current result, as `[key, result]`. */
  *rows(): Iterable<[unknown, unknown]> {
    for (const [, entry] of this.#accs.entries()) yield [entry.key, this.#fn.result(entry.acc)];
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

  /** After a bounded run the running aggregate goes on from where it was (it is a table, not a window). */
  restoreEnded(snapshot: unknown): void {
    this.restore(snapshot);
  }
}

/** A result of its own: a fold that changes its accumulator in place must not change what was emitted. */
function own(value: unknown): unknown {
  return value !== null && typeof value === 'object' ? structuredClone(value) : value;
}
