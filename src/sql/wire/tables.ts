/**
 * The state of materialized views as Postgres clients read it: each view's rows, read from the
 * topic the view writes (read_committed, so only what a checkpoint committed), caught up on each
 * query. A view with a primary key (its GROUP BY keys and window) keeps the last row per key:
 * a window re-fired by a late record replaces its earlier result; one without is append-only.
 * A table (`CREATE TABLE`, and views over tables) is a changelog: the last row per record key,
 * a tombstone deleting it.
 */
import type { Column } from '../types.ts';
import { parseTimestamp, type Row } from '../types.ts';

/** The part of the log a reader needs (the engine's LogBackend has it). */
export interface ViewLog {
  partitions(topic: string): Promise<number>;
  endOffsets(topic: string): Promise<number[]>;
  fetch(topic: string, partition: number, offset: number, maxRecords: number): Promise<{ records: { key?: Uint8Array | null; value: Uint8Array | null }[]; nextOffset: number }>;
}

/** What a reader needs of a materialized view or a table: its topic, columns and keys. */
export interface ReadableDef {
  name: string;
  columns: Column[];
  topic?: string;
  primaryKey?: string[];
  /** Upserts by record key and tombstones (a table), rather than rows (a view of a stream). */
  changelog?: boolean;
}

export class ViewTable {
  readonly def: ReadableDef;
  readonly #byKey = new Map<string, Row>();
  /** A changelog's rows by record key. */
  readonly #byRecordKey = new Map<string, Row>();
  readonly #appended: Row[] = [];
  #offsets: number[] = [];

  constructor(def: ReadableDef) {
    this.def = def;
  }

  /** The rows, in the order their keys first appeared. */
  rows(): Row[] {
    if (this.def.changelog) return [...this.#byRecordKey.values()];
    return this.def.primaryKey ? [...this.#byKey.values()] : this.#appended;
  }

  /** The row whose primary key has these values (in primaryKey order), if any. */
  lookup(values: unknown[]): Row | undefined {
    if (this.def.changelog) {
      const pk = this.def.primaryKey ?? [];
      return this.rows().find((row) => pk.every((k, i) => row[k] === values[i]));
    }
    return this.#byKey.get(JSON.stringify(values));
  }

  /** Reads what the view's topic committed since the last call. */
  async catchUp(log: ViewLog): Promise<void> {
    const topic = this.def.topic!;
    let ends: number[];
    try {
      ends = await log.endOffsets(topic);
    } catch {
      return; // the app has not created the view's topic yet: no rows
    }
    for (let p = 0; p < ends.length; p++) {
      let offset = this.#offsets[p] ?? 0;
      while (offset < ends[p]!) {
        const { records, nextOffset } = await log.fetch(topic, p, offset, 10_000);
        for (const r of records) {
          if (this.def.changelog) {
            const key = r.key == null ? '' : Buffer.from(r.key).toString('utf8');
            if (r.value === null) this.#byRecordKey.delete(key);
            else this.#byRecordKey.set(key, this.#row(JSON.parse(Buffer.from(r.value).toString('utf8')) as Row));
          } else if (r.value !== null) this.#apply(JSON.parse(Buffer.from(r.value).toString('utf8')) as Row);
        }
        if (nextOffset <= offset) break;
        offset = nextOffset;
      }
      this.#offsets[p] = offset;
    }
  }

  #row(exported: Row): Row {
    const row: Row = {};
    for (const c of this.def.columns) {
      const v = exported[c.name] ?? null;
      row[c.name] = c.type === 'timestamp' && v !== null ? parseTimestamp(v) : v;
    }
    return row;
  }

  #apply(exported: Row): void {
    const row = this.#row(exported);
    const pk = this.def.primaryKey;
    if (pk === undefined) this.#appended.push(row);
    else this.#byKey.set(JSON.stringify(pk.map((k) => row[k])), row);
  }
}
