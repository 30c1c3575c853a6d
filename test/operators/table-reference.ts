// A brute-force model of tables and their joins, sharing no code with the engine (it imports
// nothing from src): whole histories, looked at after the fact.

/** A record of a table's topic: its key, its value (null: a tombstone), its event time, in log order. */
export interface TableRecord<V> {
  key: string;
  value: V | null;
  time: number;
}

/** The latest row per key after every record, in log order (a tombstone deletes). */
export function latestRows<V>(records: readonly TableRecord<V>[]): Map<string, V> {
  const rows = new Map<string, V>();
  for (const r of records) {
    if (r.value === null) rows.delete(r.key);
    else rows.set(r.key, r.value);
  }
  return rows;
}

/**
 * The row `key` had at event time `time` in a versioned table: of its records with time <= `time`,
 * the one with the largest time, the last in log order among equal times (null: none, or deleted).
 */
export function rowAt<V>(records: readonly TableRecord<V>[], key: string, time: number): V | null {
  let best: TableRecord<V> | undefined;
  for (const r of records) if (r.key === key && r.time <= time && (best === undefined || r.time >= best.time)) best = r;
  return best?.value ?? null;
}

/** A table-table join's final rows: for every key either side has, `fn(left, right)` when the join type keeps it. */
export function joinedRows<L, R, O>(left: Map<string, L>, right: Map<string, R>, type: 'inner' | 'left' | 'outer', fn: (l: L | null, r: R | null) => O): Map<string, O> {
  const out = new Map<string, O>();
  for (const key of new Set([...left.keys(), ...right.keys()])) {
    const l = left.get(key) ?? null;
    const r = right.get(key) ?? null;
    const keep = type === 'inner' ? l !== null && r !== null : type === 'left' ? l !== null : true;
    if (keep) out.set(key, fn(l, r));
  }
  return out;
}

/** What a compacted changelog topic holds at the end: the last value per record key (tombstones remove it). */
export function compacted<V>(records: readonly { key: string | null; value: V | null }[]): Map<string, V> {
  const rows = new Map<string, V>();
  for (const r of records) {
    if (r.key === null) continue;
    if (r.value === null) rows.delete(r.key);
    else rows.set(r.key, r.value);
  }
  return rows;
}

/**
 * A foreign-key join's final rows: for every row `a` of the left table, the right row its
 * foreign key names (none for a null key); inner keeps rows with a match, left every row.
 */
export function foreignKeyJoinedRows<L, R, O>(left: Map<string, L>, right: Map<string, R>, fk: (l: L) => string | null, type: 'inner' | 'left', fn: (l: L, r: R | null) => O): Map<string, O> {
  const out = new Map<string, O>();
  for (const [key, l] of left) {
    const ref = fk(l);
    const r = ref === null ? null : (right.get(ref) ?? null);
    if (type === 'left' || r !== null) out.set(key, fn(l, r));
  }
  return out;
}
