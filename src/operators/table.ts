/**
 * Tables (Kafka Streams' KTable): the latest row per key of a keyed stream or of a table's
 * source topic, kept in a keyed table of the state backend. Every change goes downstream as a
 * changelog element `{ key, value, previous }` (a delete has `value: null`) at the event time of
 * the record that caused it. A versioned table (`versionsMs`) also keeps each key's earlier
 * versions, by event time, as long as they were valid within the retention before the
 * watermark: point-in-time lookups (`asOf`) read them.
 */
import type { Element, Operator, Output } from './operator.ts';
import { type KeyedTable, keyId, MemoryTable } from '../state/index.ts';

/**
 * One change of a table: the key, its new row (null: deleted) and the row it replaced (null:
 * none). A versioned table's changes also carry the version written (`[time, row]`): one that
 * arrives after a later version leaves the current row as it was, and a join at event time
 * still needs it.
 */
export interface Change<K = unknown, V = unknown> {
  key: K;
  value: V | null;
  previous: V | null;
  version?: [time: number, row: V | null];
}

/** A version of a row: valid from `time` (event time, epoch ms) until the next version's. */
export type Version = [time: number, row: unknown];

/** A key's entry: its current row and, in a versioned table, its versions by time (the last is current). */
export interface TableEntry {
  key: unknown;
  value: unknown;
  versions?: Version[];
}

export interface TableSnapshot {
  watermark: number;
  /** The entries, absent when a durable table checkpoints them itself. */
  entries?: TableEntry[];
}

export interface TableOperatorOptions {
  name: string;
  /** Input values are a source's `{ key, value }` pairs (value null: a tombstone), not rows. */
  changelog: boolean;
  /** Keep versions valid within this long before the watermark (a versioned table). */
  versionsMs?: number;
  table?: KeyedTable<TableEntry>;
}

/**
 * @example new TableOperator({ name: 'users', changelog: true })
 */
export class TableOperator implements Operator {
  readonly name: string;
  readonly #changelog: boolean;
  readonly #versionsMs: number | undefined;
  readonly #rows: KeyedTable<TableEntry>;
  #watermark = Number.NEGATIVE_INFINITY;

  constructor(options: TableOperatorOptions) {
    this.name = options.name;
    this.#changelog = options.changelog;
    this.#versionsMs = options.versionsMs;
    this.#rows = options.table ?? new MemoryTable();
  }

  get versioned(): boolean {
    return this.#versionsMs !== undefined;
  }

  process(batch: Element[], out: Output): void {
    for (let i = 0; i < batch.length; i++) {
      const element = batch[i];
      const input = element.value as { value?: unknown } | null | undefined;
      const row = (this.#changelog ? input?.value : input) ?? null;
      const change = this.#versionsMs === undefined ? this.#upsert(element.key, row) : this.#addVersion(element.key, element.timestamp, row);
      if (change !== undefined) out.emit({ ...element, value: change });
    }
  }

  /** The latest row wins; deleting an absent key changes nothing. */
  #upsert(key: unknown, row: unknown): Change | undefined {
    const id = keyId(key);
    const previous = this.#rows.get(id)?.value ?? null;
    if (row === null) {
      if (previous === null) return undefined;
      this.#rows.delete(id);
    } else this.#rows.set(id, { key, value: row });
    return { key, value: row, previous };
  }

  /**
   * Inserts a version at its event time (a later record of the same time replaces it). The
   * current row is the latest version by time; the change carries the version too, so a join
   * downstream builds the same history whatever the arrival order.
   */
  #addVersion(key: unknown, time: number, row: unknown): Change | undefined {
    const id = keyId(key);
    const entry = this.#rows.get(id) ?? { key, value: null, versions: [] };
    const versions = entry.versions!;
    const previous = entry.value;
    let at = versions.length;
    while (at > 0 && versions[at - 1][0] > time) at--;
    if (at > 0 && versions[at - 1][0] === time) versions[at - 1] = [time, row];
    else versions.splice(at, 0, [time, row]);
    this.#prune(versions);
    entry.value = versions[versions.length - 1][1];
    // A delete is kept as a version until it is older than the retention (an older version arriving late must not come back).
    if (versions.length === 1 && entry.value === null && versions[0][0] <= this.#watermark - this.#versionsMs!) this.#rows.delete(id);
    else this.#rows.set(id, entry);
    // Every version goes on, even one that leaves the current row as it was: a join at event time needs it.
    return { key, value: entry.value, previous, version: [time, row] };
  }

  /** Drops versions no longer valid at any time within the retention before the watermark. */
  #prune(versions: Version[]): void {
    const horizon = this.#watermark - this.#versionsMs!;
    let drop = 0;
    while (drop + 1 < versions.length && versions[drop + 1][0] <= horizon) drop++;
    if (drop > 0) versions.splice(0, drop);
  }

  onWatermark(watermark: number): number {
    if (watermark > this.#watermark) this.#watermark = watermark;
    return this.#watermark;
  }

  /** The current row of `key`, or undefined. */
  get(key: unknown): unknown {
    const value = this.#rows.get(keyId(key))?.value ?? null;
    return value === null ? undefined : value;
  }

  /**
   * The row of `key` valid at event time `time` (a versioned table), or undefined: deleted,
   * not yet written, or older than the retention before the watermark.
   */
  asOf(key: unknown, time: number): unknown {
    const versions = this.#rows.get(keyId(key))?.versions;
    if (versions === undefined) return undefined;
    const horizon = this.#watermark - this.#versionsMs!;
    for (let i = versions.length - 1; i >= 0; i--) {
      if (versions[i][0] > time) continue;
      // Valid until the next version: gone once that is older than the horizon.
      if (i + 1 < versions.length && versions[i + 1][0] <= horizon) return undefined;
      return versions[i][1] ?? undefined;
    }
    return undefined;
  }

  /** Every key with a current row, as `[key, row]`. */
  *rows(): Iterable<[unknown, unknown]> {
    for (const [, entry] of this.#rows.entries()) if (entry.value !== null) yield [entry.key, entry.value];
  }

  snapshot(): TableSnapshot {
    if (this.#rows.durable) return { watermark: this.#watermark };
    return { watermark: this.#watermark, entries: structuredClone([...this.#rows.entries()].map(([, entry]) => entry)) };
  }

  restore(snapshot: unknown): void {
    const saved = snapshot as TableSnapshot;
    this.#watermark = saved.watermark ?? Number.NEGATIVE_INFINITY;
    for (const entry of structuredClone(saved.entries ?? [])) this.#rows.set(keyId(entry.key), entry);
  }

  /** After a bounded run: the rows stay, the watermark (+Infinity) starts over. */
  restoreEnded(snapshot: unknown): void {
    this.restore(snapshot);
    this.#watermark = Number.NEGATIVE_INFINITY;
  }
}
