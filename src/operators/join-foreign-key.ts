/**
 * Foreign-key table joins (Kafka Streams' KIP-213): each row of table A names a row of table B
 * by `fk(a)`; the result is a table keyed by A's key, changed when A's row or the B row it names
 * changes, deleted when A's row goes (and, inner, when the B row does). Three operators, each in
 * the task of its key:
 *
 * 1. `ForeignKeySubscribeOperator` (A's key) turns each change of A into subscriptions: the new
 *    row to the task of its foreign key, and an unsubscription to the old key's task when the
 *    foreign key changed (or the row went). Each carries a sequence number, rising per task, so
 *    per A key.
 * 2. `ForeignKeyLookupOperator` (B's key) keeps B's row and the A rows subscribed to it, and
 *    answers each subscription and each change of B with the joined row of each subscriber,
 *    stamped with the subscriber's sequence number.
 * 3. `ForeignKeyResultOperator` (A's key) keeps the joined row and the newest sequence number it
 *    took: an answer computed for an older row of A (from the old foreign key's task, which may
 *    answer after the new one) is stale and dropped. This is what KIP-213 does with a hash of
 *    the row; a number also orders answers that arrive before their change would be visible.
 *
 * A deleted row leaves its key's sequence number behind (a few bytes a key), so no late answer
 * for an older row brings it back.
 */
import { restoreEntries, snapshotEntries } from './keyed-entries.ts';
import type { Element, Operator, Output } from './operator.ts';
import { type RecordErrorHandler, rethrow } from './record-error.ts';
import type { Change } from './table.ts';
import { type KeyedTable, keyId, MemoryTable } from '../state/index.ts';

/** A subscription of an A row to a B key (`fk` null: the row names none); `row` null unsubscribes. */
export interface Subscription {
  aKey: unknown;
  fk: unknown;
  row: unknown;
  seq: number;
  /** Whether the lookup answers it (an unsubscription answers only when A's row went). */
  answer: boolean;
}

/** The joined row for A key `aKey` (null: none), as of A's change `seq`. */
export interface Answer {
  aKey: unknown;
  seq: number;
  joined: unknown;
}

/** A foreign key that names no row: null and undefined. */
function none(fk: unknown): boolean {
  return fk === null || fk === undefined;
}

/** @example new ForeignKeySubscribeOperator('orders-users.subscribe', (order) => order.user) */
export class ForeignKeySubscribeOperator implements Operator {
  readonly name: string;
  readonly #fk: (row: any) => unknown;
  readonly #onError: RecordErrorHandler;
  #seq = 0;

  constructor(name: string, fk: (row: any) => unknown, onError: RecordErrorHandler = rethrow) {
    this.name = name;
    this.#fk = fk;
    this.#onError = onError;
  }

  process(batch: Element[], out: Output): void {
    for (let i = 0; i < batch.length; i++) {
      const element = batch[i];
      const change = element.value as Change;
      if (change.value === null && change.previous === null) continue;
      let oldFk: unknown = null;
      let newFk: unknown = null;
      try {
        if (change.previous !== null) oldFk = this.#fk(change.previous) ?? null;
        if (change.value !== null) newFk = this.#fk(change.value) ?? null;
      } catch (error) {
        this.#onError(element, error, this.name);
        continue;
      }
      const seq = ++this.#seq;
      const aKey = change.key;
      const send = (s: Subscription): void => out.emit({ ...element, value: s });
      const moved = change.value === null || keyId(oldFk) !== keyId(newFk);
      if (!none(oldFk) && moved) send({ aKey, fk: oldFk, row: null, seq, answer: change.value === null });
      if (change.value !== null) send({ aKey, fk: newFk, row: change.value, seq, answer: true });
      // A row that went without a subscription (it named no B row) is deleted through the null key's task.
      else if (none(oldFk)) send({ aKey, fk: null, row: null, seq, answer: true });
    }
  }

  snapshot(): { seq: number } {
    return { seq: this.#seq };
  }

  restore(snapshot: unknown): void {
    this.#seq = (snapshot as { seq?: number }).seq ?? 0;
  }

  /** After a bounded run the numbering goes on (the result keeps the numbers it took). */
  restoreEnded(snapshot: unknown): void {
    this.restore(snapshot);
  }
}

/** A B key's state: B's row (null: none) and its subscribers by A key id: `[aKey, row, seq]`. */
export interface LookupEntry {
  key: unknown;
  row: unknown;
  subscribers: Record<string, [aKey: unknown, row: unknown, seq: number]>;
}

export interface ForeignKeyLookupOptions {
  name: string;
  join: 'inner' | 'left';
  fn: (a: any, b: any) => unknown;
  onError?: RecordErrorHandler;
  table?: KeyedTable<LookupEntry>;
}

/** @example new ForeignKeyLookupOperator({ name: 'orders-users.lookup', join: 'left', fn: (order, user) => ({ ...order, user }) }) */
export class ForeignKeyLookupOperator implements Operator {
  readonly name: string;
  readonly #join: 'inner' | 'left';
  readonly #fn: (a: unknown, b: unknown) => unknown;
  readonly #onError: RecordErrorHandler;
  readonly #state: KeyedTable<LookupEntry>;

  constructor(options: ForeignKeyLookupOptions) {
    this.name = options.name;
    this.#join = options.join;
    this.#fn = options.fn;
    this.#onError = options.onError ?? rethrow;
    this.#state = options.table ?? new MemoryTable();
  }

  process(batch: Element[], out: Output): void {
    for (let i = 0; i < batch.length; i++) {
      const element = batch[i];
      const { side, value } = element.value as { side: 0 | 1; value: unknown };
      if (side === 0) this.#subscription(element, value as Subscription, out);
      else this.#rowChange(element, value as Change, out);
    }
  }

  #subscription(element: Element, s: Subscription, out: Output): void {
    if (none(s.fk)) {
      if (s.answer) this.#answer(element, s.aKey, s.seq, s.row, null, out);
      return;
    }
    const id = keyId(s.fk);
    const entry = this.#state.get(id) ?? { key: s.fk, row: null, subscribers: {} };
    const sub = JSON.stringify(keyId(s.aKey));
    if (s.row === null) delete entry.subscribers[sub];
    else entry.subscribers[sub] = [s.aKey, s.row, s.seq];
    this.#save(id, entry);
    if (s.answer) this.#answer(element, s.aKey, s.seq, s.row, entry.row, out);
  }

  #rowChange(element: Element, change: Change, out: Output): void {
    const id = keyId(change.key);
    const entry = this.#state.get(id) ?? { key: change.key, row: null, subscribers: {} };
    entry.row = change.value;
    this.#save(id, entry);
    for (const sub in entry.subscribers) {
      const [aKey, row, seq] = entry.subscribers[sub];
      this.#answer(element, aKey, seq, row, change.value, out);
    }
  }

  /** Sends the joined row of A row `a` (null: A's row went) with B row `b` (null: none). */
  #answer(element: Element, aKey: unknown, seq: number, a: unknown, b: unknown, out: Output): void {
    let joined: unknown = null;
    if (a !== null && (b !== null || this.#join === 'left')) {
      try {
        joined = this.#fn(a, b) ?? null;
      } catch (error) {
        this.#onError(element, error, this.name);
        return;
      }
    }
    const answer: Answer = { aKey, seq, joined };
    out.emit({ ...element, value: answer });
  }

  #save(id: ReturnType<typeof keyId>, entry: LookupEntry): void {
    if (entry.row === null && Object.keys(entry.subscribers).length === 0) this.#state.delete(id);
    else this.#state.set(id, entry);
  }

  snapshot(): LookupEntry[] | null {
    return snapshotEntries(this.#state);
  }

  restore(snapshot: unknown): void {
    restoreEntries(this.#state, snapshot);
  }

  restoreEnded(snapshot: unknown): void {
    this.restore(snapshot);
  }
}

/** An A key's joined row (null: none, the key's sequence number kept) and the newest sequence number taken. */
export interface ResultEntry {
  key: unknown;
  seq: number;
  value: unknown;
}

/** @example new ForeignKeyResultOperator('orders-users') */
export class ForeignKeyResultOperator implements Operator {
  readonly name: string;
  readonly #state: KeyedTable<ResultEntry>;

  constructor(name: string, table: KeyedTable<ResultEntry> = new MemoryTable()) {
    this.name = name;
    this.#state = table;
  }

  process(batch: Element[], out: Output): void {
    for (let i = 0; i < batch.length; i++) {
      const element = batch[i];
      const answer = element.value as Answer;
      const id = keyId(answer.aKey);
      const entry = this.#state.get(id);
      // An answer for an older row of A: the row changed since, and its own answer counts.
      if (entry !== undefined && answer.seq < entry.seq) continue;
      const previous = entry?.value ?? null;
      this.#state.set(id, { key: answer.aKey, seq: answer.seq, value: answer.joined });
      if (answer.joined === null && previous === null) continue;
      const change: Change = { key: answer.aKey, value: answer.joined, previous };
      out.emit({ ...element, key: answer.aKey, value: change });
    }
  }

  /** The joined row of `key`, or undefined (a queryable table reads it). */
  get(key: unknown): unknown {
    const value = this.#state.get(keyId(key))?.value ?? null;
    return value === null ? undefined : value;
  }

  *rows(): Iterable<[unknown, unknown]> {
    for (const [, entry] of this.#state.entries()) if (entry.value !== null) yield [entry.key, entry.value];
  }

  snapshot(): ResultEntry[] | null {
    return snapshotEntries(this.#state);
  }

  restore(snapshot: unknown): void {
    restoreEntries(this.#state, snapshot);
  }

  restoreEnded(snapshot: unknown): void {
    this.restore(snapshot);
  }
}
