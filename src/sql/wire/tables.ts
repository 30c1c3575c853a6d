/**
 * The state of materialized views as Postgres clients read it: each view's rows, read from the
 * topic the view writes (read_committed, so only what a checkpoint committed), caught up on each
 * query. A view with a primary key (its GROUP BY keys and window) keeps the last row per key:
 * a window re-fired by a late record replaces its earlier result; one without is append-only.
 */
import type { ViewDef } from '../catalog.ts';
import { parseTimestamp, type Row } from '../types.ts';

/** The part of the log a reader needs (the engine's LogBackend has it). */
export interface ViewLog {
  partitions(topic: string): Promise<number>;
  endOffsets(topic: string): Promise<number[]>;
  fetch(topic: string, partition: number, offset: number, maxRecords: number): Promise<{ records: { value: Uint8Array | null }[]; nextOffset: number }>;
}

export class ViewTable {
  readonly def: ViewDef;
  readonly #byKey = new Map<string, Row>();
  readonly #appended: Row[] = [];
  #offsets: number[] = [];

  constructor(def: ViewDef) {
    this.def = def;
  }

  /** The rows, in the order their keys first appeared. */
  rows(): Row[] {
    return this.def.primaryKey ? [...this.#byKey.values()] : this.#appended;
  }

  /** The row whose primary key has these values (in primaryKey order), if any. */
  lookup(values: unknown[]): Row | undefined {
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
        for (const r of records) if (r.value !== null) this.#apply(JSON.parse(Buffer.from(r.value).toString('utf8')) as Row);
        if (nextOffset <= offset) break;
        offset = nextOffset;
      }
      this.#offsets[p] = offset;
    }
  }

  #apply(exported: Row): void {
    const row: Row = {};
    for (const c of this.def.columns) {
      const v = exported[c.name] ?? null;
      row[c.name] = c.type === 'timestamp' && v !== null ? parseTimestamp(v) : v;
    }
    const pk = this.def.primaryKey;
    if (pk === undefined) this.#appended.push(row);
    else this.#byKey.set(JSON.stringify(pk.map((k) => row[k])), row);
  }
}
