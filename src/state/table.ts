/**
 * Keyed tables: the unit of state an operator keeps in a state backend, one per operator and
 * task. A table maps a key's id (see `keyId`) to a value. Values handed out by `get` may be
 * changed in place, but only a following `set` makes the change part of the next checkpoint.
 */

/** The id of a key in tables and maps: primitives as themselves (-0 as 0), objects by their JSON. */
export function keyId(key: unknown): string | number | boolean | null {
  if (key === undefined) return null;
  // -0 and 0 are one key: Maps merge them, a durable table's key encoding would not.
  if (key === 0) return 0;
  if (key !== null && typeof key === 'object') return `\u0000${JSON.stringify(key)}`;
  if (typeof key === 'bigint' || typeof key === 'symbol' || typeof key === 'function') return `\u0001${String(key)}`;
  return key as string | number | boolean | null;
}

export type KeyIdValue = ReturnType<typeof keyId>;

export interface KeyedTable<V> {
  get(id: KeyIdValue): V | undefined;
  set(id: KeyIdValue, value: V): void;
  delete(id: KeyIdValue): void;
  /** Every entry, in no particular order (a durable table reads its checkpointed entries from disk). */
  entries(): Iterable<[KeyIdValue, V]>;
  /** Up to `limit` entries in id order after `after` (from the start when undefined); durable tables only. */
  scan?(after: KeyIdValue | undefined, limit: number): [KeyIdValue, V][];
  /**
   * Whether the backend keeps this table itself and writes it at each checkpoint (lmdb): then an
   * operator's own snapshot leaves the table out. A memory table is part of the operator snapshot.
   */
  readonly durable: boolean;
}

/** A table in the heap: a Map. */
/** State an engine keeps in a layout of its own rather than in its table's entries (window-panes.ts): what `sizes()` measures instead. */
export interface HeldState {
  /** Keys with state. */
  entries: number;
  /** Some keys' state, as [key id, state]: its serialized size stands for the rest. */
  sample: Iterable<[KeyIdValue, unknown]>;
}

export class MemoryTable<V> implements KeyedTable<V> {
  readonly durable = false;
  readonly #map = new Map<KeyIdValue, V>();
  /** Set when the table's owner keeps its state elsewhere (see HeldState). */
  held: (() => HeldState) | undefined;

  get(id: KeyIdValue): V | undefined {
    return this.#map.get(id);
  }

  set(id: KeyIdValue, value: V): void {
    this.#map.set(id, value);
  }

  delete(id: KeyIdValue): void {
    this.#map.delete(id);
  }

  entries(): Iterable<[KeyIdValue, V]> {
    return this.#map.entries();
  }

  get size(): number {
    return this.#map.size;
  }

  clear(): void {
    this.#map.clear();
  }
}
