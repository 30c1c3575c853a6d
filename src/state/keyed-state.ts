/**
 * Per-key state of a keyed operator (Flink's keyed state): named value, list and map states of
 * the current key, kept in a keyed table of the state backend. All named states of one key
 * live in one table entry, so a record costs one table read and at most one write.
 *
 * TTL: a state declared with `{ ttl }` expires that long (processing time) after its last
 * write, Flink's OnCreateAndWrite and NeverReturnExpired: expired state reads as absent, is
 * removed when its key is next touched, left out of memory snapshots, and swept from durable
 * tables a slice per checkpoint.
 */
import { type Duration, SluiceError, toMillis } from '../core/index.ts';
import { type KeyedTable, type KeyIdValue, keyId, MemoryTable } from './table.ts';

export type StateKind = 'value' | 'list' | 'map';

/** One key's states: name -> value (list: array, map: Map), and when each TTL'd state expires. */
export interface KeyEntry {
  key: unknown;
  values: Map<string, unknown>;
  expires?: Map<string, number>;
}

export interface StateOptions {
  /** Time to live after the last write (processing time): `'1h'`, `{ minutes: 5 }` or ms. */
  ttl?: Duration;
}

/** A key's states as JSON-safe data: map states as `[key, value]` pairs. */
export interface SavedKeyEntry {
  key: unknown;
  values: [name: string, value: unknown][];
  expires?: [name: string, at: number][];
}

export interface KeyedStateSnapshot {
  kinds: [name: string, kind: StateKind][];
  /** The entries, absent when the table is durable (the backend checkpoints it itself). */
  keys?: SavedKeyEntry[];
}

export class KeyedStateStore {
  readonly #table: KeyedTable<KeyEntry>;
  readonly #now: () => number;
  readonly #kinds = new Map<string, StateKind>();
  readonly #ttls = new Map<string, number>();
  #current: KeyEntry | undefined;
  #currentId: KeyIdValue = null;
  #currentKey: unknown;
  #sweptTo: KeyIdValue | undefined;

  constructor(table: KeyedTable<KeyEntry> = new MemoryTable(), now: () => number = Date.now) {
    this.#table = table;
    this.#now = now;
  }

  /** Makes `key` the current key. */
  setKey(key: unknown): void {
    this.#currentKey = key;
    this.#currentId = keyId(key);
    const entry = this.#table.get(this.#currentId);
    this.#current = entry !== undefined && entry.expires !== undefined ? this.#expire(this.#currentId, entry) : entry;
  }

  /** Drops the expired states of `entry`; returns what is left of it. */
  #expire(id: KeyIdValue, entry: KeyEntry): KeyEntry | undefined {
    const now = this.#now();
    let changed = false;
    for (const [name, at] of entry.expires!) {
      if (at > now) continue;
      entry.values.delete(name);
      entry.expires!.delete(name);
      changed = true;
    }
    if (!changed) return entry;
    if (entry.expires!.size === 0) delete entry.expires;
    if (entry.values.size === 0) {
      this.#table.delete(id);
      return undefined;
    }
    this.#table.set(id, entry);
    return entry;
  }

  #read(name: string, kind: StateKind): unknown {
    this.#declare(name, kind);
    return this.#current?.values.get(name);
  }

  /** Stores `value` (possibly the same object, changed in place) for the current key: a durable table writes it back. */
  #write(name: string, kind: StateKind, value: unknown): void {
    this.#declare(name, kind);
    let entry = this.#current;
    if (entry === undefined) this.#current = entry = { key: this.#currentKey, values: new Map() };
    entry.values.set(name, value);
    const ttl = this.#ttls.get(name);
    if (ttl !== undefined) (entry.expires ??= new Map()).set(name, this.#now() + ttl);
    this.#table.set(this.#currentId, entry);
  }

  #clear(name: string): void {
    const entry = this.#current;
    if (entry === undefined || !entry.values.delete(name)) return;
    entry.expires?.delete(name);
    if (entry.values.size === 0) {
      this.#table.delete(this.#currentId);
      this.#current = undefined;
    } else this.#table.set(this.#currentId, entry);
  }

  #declare(name: string, kind: StateKind, options?: StateOptions): void {
    const known = this.#kinds.get(name);
    if (known === undefined) this.#kinds.set(name, kind);
    else if (known !== kind) {
      throw new SluiceError('INVALID_ARGUMENT', `state '${name}' is a ${known} state; it cannot also be used as a ${kind} state: give it another name`);
    }
    if (options?.ttl !== undefined) {
      const ttl = toMillis(options.ttl, `ttl of state '${name}'`);
      if (ttl <= 0) throw new SluiceError('INVALID_ARGUMENT', `ttl of state '${name}' must be positive, got ${ttl} ms`);
      this.#ttls.set(name, ttl);
    }
  }

  value<S>(name: string, options?: StateOptions) {
    this.#declare(name, 'value', options);
    return {
      value: (): S | undefined => this.#read(name, 'value') as S | undefined,
      update: (value: S): void => this.#write(name, 'value', value),
      clear: (): void => this.#clear(name),
    };
  }

  list<S>(name: string, options?: StateOptions) {
    this.#declare(name, 'list', options);
    const get = (): S[] | undefined => this.#read(name, 'list') as S[] | undefined;
    return {
      get: (): readonly S[] => get() ?? [],
      add: (value: S): void => {
        const list = get();
        if (list) list.push(value);
        this.#write(name, 'list', list ?? [value]);
      },
      update: (values: S[]): void => this.#write(name, 'list', [...values]),
      clear: (): void => this.#clear(name),
    };
  }

  map<MK, MV>(name: string, options?: StateOptions) {
    this.#declare(name, 'map', options);
    const get = (): Map<MK, MV> | undefined => this.#read(name, 'map') as Map<MK, MV> | undefined;
    return {
      get: (key: MK): MV | undefined => get()?.get(key),
      has: (key: MK): boolean => get()?.has(key) ?? false,
      set: (key: MK, value: MV): void => {
        const map = get();
        if (map) map.set(key, value);
        this.#write(name, 'map', map ?? new Map([[key, value]]));
      },
      delete: (key: MK): void => {
        const map = get();
        if (map === undefined || !map.delete(key)) return;
        if (map.size === 0) this.#clear(name);
        else this.#write(name, 'map', map);
      },
      entries: (): [MK, MV][] => [...(get() ?? new Map<MK, MV>())],
      clear: (): void => this.#clear(name),
    };
  }

  /** Sweeps up to `budget` entries of a durable table for expired state, resuming where the last sweep stopped. */
  sweep(budget: number): void {
    if (this.#ttls.size === 0 || this.#table.scan === undefined) return;
    const slice = this.#table.scan(this.#sweptTo, budget);
    for (const [id, entry] of slice) if (entry.expires !== undefined) this.#expire(id, entry);
    this.#sweptTo = slice.length < budget ? undefined : slice[slice.length - 1][0];
    this.#current = undefined;
  }

  snapshot(): KeyedStateSnapshot {
    const kinds = [...this.#kinds];
    if (this.#table.durable) return { kinds };
    const keys: SavedKeyEntry[] = [];
    for (const [id, entry] of this.#table.entries()) {
      const live = entry.expires === undefined ? entry : this.#expire(id, structuredClone(entry));
      if (live !== undefined) keys.push(this.#save(live));
    }
    return { kinds, keys: structuredClone(keys) };
  }

  #save(entry: KeyEntry): SavedKeyEntry {
    const values: SavedKeyEntry['values'] = [];
    for (const [name, value] of entry.values) values.push([name, this.#kinds.get(name) === 'map' ? [...(value as Map<unknown, unknown>)] : value]);
    return entry.expires === undefined ? { key: entry.key, values } : { key: entry.key, values, expires: [...entry.expires] };
  }

  restore(snapshot: KeyedStateSnapshot): void {
    for (const [name, kind] of snapshot.kinds) this.#kinds.set(name, kind);
    this.#current = undefined;
    if (snapshot.keys === undefined) return;
    for (const saved of structuredClone(snapshot.keys)) {
      const values = new Map<string, unknown>();
      for (const [name, value] of saved.values) values.set(name, this.#kinds.get(name) === 'map' ? new Map(value as [unknown, unknown][]) : value);
      const entry: KeyEntry = { key: saved.key, values };
      if (saved.expires !== undefined) entry.expires = new Map(saved.expires);
      this.#table.set(keyId(saved.key), entry);
    }
  }
}
