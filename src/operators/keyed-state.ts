/**
 * Per-key state of a process operator: named value, list and map states, all in memory, with
 * a JSON-able snapshot. Handles are bound to the operator and read its current key, so a
 * handle fetched once stays valid for every key.
 */
import { SluiceError } from '../core/index.ts';
import { keyId } from './timers.ts';

interface KeyEntry {
  key: unknown;
  values: Map<string, unknown>;
}

export interface KeyedStateSnapshot {
  keys: { key: unknown; values: [name: string, kind: 'value' | 'list' | 'map', value: unknown][] }[];
}

type Kind = 'value' | 'list' | 'map';

export class KeyedStateStore {
  readonly #entries = new Map<unknown, KeyEntry>();
  readonly #kinds = new Map<string, Kind>();
  #current: KeyEntry | undefined;
  #currentKey: unknown;

  /** Makes `key` the current key. */
  setKey(key: unknown): void {
    this.#currentKey = key;
    this.#current = this.#entries.get(keyId(key));
  }

  #read(name: string, kind: Kind): unknown {
    this.#declare(name, kind);
    return this.#current?.values.get(name);
  }

  #write(name: string, kind: Kind, value: unknown): void {
    this.#declare(name, kind);
    if (this.#current === undefined) {
      this.#current = { key: this.#currentKey, values: new Map() };
      this.#entries.set(keyId(this.#currentKey), this.#current);
    }
    this.#current.values.set(name, value);
  }

  #clear(name: string): void {
    const entry = this.#current;
    if (entry === undefined) return;
    entry.values.delete(name);
    if (entry.values.size === 0) {
      this.#entries.delete(keyId(entry.key));
      this.#current = undefined;
    }
  }

  #declare(name: string, kind: Kind): void {
    const known = this.#kinds.get(name);
    if (known === undefined) this.#kinds.set(name, kind);
    else if (known !== kind) {
      throw new SluiceError('INVALID_ARGUMENT', `state '${name}' is a ${known} state; it cannot also be used as a ${kind} state: give it another name`);
    }
  }

  value<S>(name: string) {
    return {
      value: (): S | undefined => this.#read(name, 'value') as S | undefined,
      update: (value: S): void => this.#write(name, 'value', value),
      clear: (): void => this.#clear(name),
    };
  }

  list<S>(name: string) {
    const get = (): S[] => (this.#read(name, 'list') as S[] | undefined) ?? [];
    return {
      get: (): readonly S[] => get(),
      add: (value: S): void => {
        const list = this.#read(name, 'list') as S[] | undefined;
        if (list) list.push(value);
        else this.#write(name, 'list', [value]);
      },
      update: (values: S[]): void => this.#write(name, 'list', [...values]),
      clear: (): void => this.#clear(name),
    };
  }

  map<MK, MV>(name: string) {
    const get = (): Map<MK, MV> | undefined => this.#read(name, 'map') as Map<MK, MV> | undefined;
    return {
      get: (key: MK): MV | undefined => get()?.get(key),
      has: (key: MK): boolean => get()?.has(key) ?? false,
      set: (key: MK, value: MV): void => {
        const map = get();
        if (map) map.set(key, value);
        else this.#write(name, 'map', new Map([[key, value]]));
      },
      delete: (key: MK): void => {
        const map = get();
        map?.delete(key);
        if (map?.size === 0) this.#clear(name);
      },
      entries: (): [MK, MV][] => [...(get() ?? new Map<MK, MV>())],
      clear: (): void => this.#clear(name),
    };
  }

  /** Number of keys holding state. */
  get size(): number {
    return this.#entries.size;
  }

  snapshot(): KeyedStateSnapshot {
    const keys: KeyedStateSnapshot['keys'] = [];
    for (const entry of this.#entries.values()) {
      const values: KeyedStateSnapshot['keys'][number]['values'] = [];
      for (const [name, value] of entry.values) {
        const kind = this.#kinds.get(name)!;
        values.push([name, kind, kind === 'map' ? [...(value as Map<unknown, unknown>)] : kind === 'list' ? [...(value as unknown[])] : value]);
      }
      keys.push({ key: entry.key, values });
    }
    return structuredClone({ keys });
  }

  restore(snapshot: KeyedStateSnapshot): void {
    this.#entries.clear();
    this.#current = undefined;
    for (const { key, values } of snapshot.keys) {
      const map = new Map<string, unknown>();
      for (const [name, kind, value] of values) {
        this.#kinds.set(name, kind);
        map.set(name, kind === 'map' ? new Map(value as [unknown, unknown][]) : kind === 'list' ? [...(value as unknown[])] : value);
      }
      this.#entries.set(keyId(key), { key, values: map });
    }
  }
}
