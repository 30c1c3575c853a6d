/**
 * Table-table joins on the key (Kafka Streams' KTable-KTable join): both tables' changes arrive
 * tagged with their side; the operator keeps each key's two rows and the joined row, and emits
 * a change of the joined table whenever a side's change changes it (a delete when a match
 * disappears). Inner: a row when both sides have one; left: when the left has one (the right
 * may be null); outer: when either has one.
 */
import { restoreEntries, snapshotEntries } from './keyed-entries.ts';
import type { Element, Operator, Output } from './operator.ts';
import { type RecordErrorHandler, rethrow } from './record-error.ts';
import type { Change } from './table.ts';
import { type KeyedTable, keyId, MemoryTable } from '../state/index.ts';

/** A key's two rows (null: none) and the joined row (null: none). */
export interface JoinedEntry {
  key: unknown;
  left: unknown;
  right: unknown;
  joined: unknown;
}

export interface TableJoinOptions {
  name: string;
  join: 'inner' | 'left' | 'outer';
  fn: (left: any, right: any) => unknown;
  onError?: RecordErrorHandler;
  table?: KeyedTable<JoinedEntry>;
}

/**
 * @example new TableJoinOperator({ name: 'orders-with-customers', join: 'left', fn: (order, customer) => ({ ...order, customer }) })
 */
export class TableJoinOperator implements Operator {
  readonly name: string;
  readonly #join: 'inner' | 'left' | 'outer';
  readonly #fn: (left: unknown, right: unknown) => unknown;
  readonly #onError: RecordErrorHandler;
  readonly #state: KeyedTable<JoinedEntry>;

  constructor(options: TableJoinOptions) {
    this.name = options.name;
    this.#join = options.join;
    this.#fn = options.fn;
    this.#onError = options.onError ?? rethrow;
    this.#state = options.table ?? new MemoryTable();
  }

  process(batch: Element[], out: Output): void {
    for (let i = 0; i < batch.length; i++) {
      const element = batch[i];
      const { side, value } = element.value as { side: 0 | 1; value: Change };
      const id = keyId(element.key);
      const entry = this.#state.get(id) ?? { key: element.key, left: null, right: null, joined: null };
      const left = side === 0 ? value.value : entry.left;
      const right = side === 1 ? value.value : entry.right;
      let joined: unknown = null;
      if (this.#matches(left, right)) {
        try {
          joined = this.#fn(left, right) ?? null;
        } catch (error) {
          this.#onError(element, error, this.name);
          continue;
        }
      }
      const previous = entry.joined;
      const next = { key: element.key, left, right, joined };
      if (left === null && right === null) this.#state.delete(id);
      else this.#state.set(id, next);
      if (joined === null && previous === null) continue;
      const change: Change = { key: element.key, value: joined, previous };
      out.emit({ ...element, value: change });
    }
  }

  #matches(left: unknown, right: unknown): boolean {
    if (this.#join === 'inner') return left !== null && right !== null;
    if (this.#join === 'left') return left !== null;
    return left !== null || right !== null;
  }

  /** The joined row of `key`, or undefined (a queryable table reads it). */
  get(key: unknown): unknown {
    const joined = this.#state.get(keyId(key))?.joined ?? null;
    return joined === null ? undefined : joined;
  }

  *rows(): Iterable<[unknown, unknown]> {
    for (const [, entry] of this.#state.entries()) if (entry.joined !== null) yield [entry.key, entry.joined];
  }

  snapshot(): JoinedEntry[] | null {
    return snapshotEntries(this.#state);
  }

  restore(snapshot: unknown): void {
    restoreEntries(this.#state, snapshot);
  }

  /** After a bounded run the joined table goes on as it was. */
  restoreEnded(snapshot: unknown): void {
    this.restore(snapshot);
  }
}
