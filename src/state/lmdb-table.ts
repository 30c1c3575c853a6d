/**
 * One keyed table of the lmdb backend (lmdb-backend.ts): a named LMDB database plus, in memory,
 * the changes not yet checkpointed and a bounded cache of clean entries.
 *
 * Changes live in up to two layers. `dirty` takes every `set`/`delete`. At a checkpoint's
 * barrier `seal()` moves `dirty` aside whole (O(1)) as `sealed`: the change set of that
 * checkpoint, written to disk while processing goes on into a fresh `dirty`. Reads look in
 * dirty, then the cache, then sealed, then disk. Values are changed in place by their users
 * (get, change, set), so a sealed value is framed into its stored bytes before anyone can touch
 * it again: when it is read, overwritten or deleted after the barrier, or by the background
 * framing, whichever comes first. So nothing done after the barrier leaks into the checkpoint.
 */
import { createHash } from 'node:crypto';
import { crc32c } from '@node-rs/crc32';
import type { Database } from 'lmdb';
import { Packr } from 'msgpackr';
import { SluiceError } from '../core/index.ts';
import type { KeyedTable, KeyIdValue } from './table.ts';

const DELETED = Symbol('deleted');
/** Structured clone: Maps, Sets, Dates and shared references round-trip. */
export const VALUES = new Packr({ structuredClone: true });
export const DAMAGE_ADVICE = 'Restore the app from its last savepoint (sluice savepoint list APP, then sluice run FILE --from-savepoint ID), or reset it to reprocess its input (sluice app reset APP)';
/** LMDB keys are at most 1978 bytes here: longer ids are stored under their SHA-256 (entries() then yields that). */
const MAX_KEY_CHARS = 500;

/** A sealed value already turned into its stored bytes. */
class Framed {
  readonly bytes: Buffer;
  constructor(bytes: Buffer) {
    this.bytes = bytes;
  }
}

type Change<V> = V | typeof DELETED;

export class LmdbTable<V> implements KeyedTable<V> {
  readonly durable = true;
  readonly #db: Database;
  readonly #scope: string;
  readonly #cacheEntries: number;
  /** Changes since the last barrier: the new value, or DELETED. */
  #dirty = new Map<KeyIdValue, Change<V>>();
  /** The changes of the checkpoint being written (sealed at its barrier), framed or not yet. */
  #sealed: Map<KeyIdValue, Change<V> | Framed> | undefined;
  /** Clean entries recently read, oldest first. */
  readonly #cache = new Map<KeyIdValue, V>();

  constructor(db: Database, scope: string, cacheEntries: number) {
    this.#db = db;
    this.#scope = scope;
    this.#cacheEntries = cacheEntries;
  }

  /** The stored value of `id`, its checksum checked. */
  #decode(id: KeyIdValue, stored: Buffer): V {
    const body = stored.subarray(4);
    if (stored.length < 4 || stored.readUInt32BE(0) !== crc32c(body)) {
      const slash = this.#scope.indexOf('/');
      const operator = slash < 0 ? this.#scope : this.#scope.slice(0, slash);
      throw new SluiceError('STATE_CORRUPT', `the state of operator '${operator}' (table '${this.#scope}') for key ${JSON.stringify(id)} fails its checksum: the state file is damaged and that value cannot be trusted. ${DAMAGE_ADVICE}`, { operator });
    }
    return VALUES.unpack(body) as V;
  }

  get pending(): number {
    return this.#dirty.size;
  }

  size(): { entries: number; bytes: number } {
    const stats = this.#db.getStats() as { pageSize: number; treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number; entryCount: number };
    return { entries: stats.entryCount, bytes: stats.pageSize * (stats.treeBranchPageCount + stats.treeLeafPageCount + stats.overflowPages) };
  }

  /**
   * The sealed change of `id` as a value a caller may change in place (DELETED, or undefined when
   * `id` is not sealed): an unframed value is framed first, so the checkpoint keeps it as it was.
   */
  #fromSealed(id: KeyIdValue): Change<V> | undefined {
    const change = this.#protect(id);
    return change instanceof Framed ? this.#decode(id, change.bytes) : change;
  }

  /** Before `id` may change after the barrier: its sealed value is framed as it is now. Returns the sealed change as it was. */
  #protect(id: KeyIdValue): Change<V> | Framed | undefined {
    const change = this.#sealed?.get(id);
    if (change !== undefined && change !== DELETED && !(change instanceof Framed)) this.#sealed!.set(id, new Framed(frame(change)));
    return change;
  }

  get(id: KeyIdValue): V | undefined {
    const dirty = this.#dirty.get(id);
    if (dirty !== undefined) return dirty === DELETED ? undefined : dirty;
    const cached = this.#cache.get(id);
    if (cached !== undefined) return cached;
    const sealed = this.#fromSealed(id);
    if (sealed === DELETED) return undefined;
    if (sealed !== undefined) {
      this.#remember(id, sealed);
      return sealed;
    }
    const stored = this.#db.get(toLmdbKey(id)) as Buffer | undefined;
    if (stored === undefined) return undefined;
    const value = this.#decode(id, stored);
    this.#remember(id, value);
    return value;
  }

  set(id: KeyIdValue, value: V): void {
    this.#protect(id);
    this.#dirty.set(id, value);
    this.#cache.delete(id);
  }

  delete(id: KeyIdValue): void {
    this.#protect(id);
    this.#dirty.set(id, DELETED);
    this.#cache.delete(id);
  }

  /** The newest change of `id` not yet on disk (dirty, then sealed), or undefined. */
  #change(id: KeyIdValue): Change<V> | undefined {
    return this.#dirty.get(id) ?? this.#fromSealed(id);
  }

  *entries(): Iterable<[KeyIdValue, V]> {
    for (const { key, value } of this.#db.getRange()) {
      const id = fromLmdbKey(key as string | number);
      if (!this.#dirty.has(id) && !this.#sealed?.has(id)) yield [id, this.#decode(id, value as Buffer)];
    }
    for (const [id, value] of this.#dirty) if (value !== DELETED) yield [id, value];
    if (this.#sealed === undefined) return;
    for (const id of [...this.#sealed.keys()]) {
      if (this.#dirty.has(id)) continue;
      const value = this.#fromSealed(id);
      if (value !== undefined && value !== DELETED) yield [id, value];
    }
  }

  scan(after: KeyIdValue | undefined, limit: number): [KeyIdValue, V][] {
    const out: [KeyIdValue, V][] = [];
    const range = after === undefined ? this.#db.getRange({ limit: limit + 1 }) : this.#db.getRange({ start: toLmdbKey(after), limit: limit + 1 });
    for (const { key, value } of range) {
      const id = fromLmdbKey(key as string | number);
      if (after !== undefined && id === after) continue;
      if (out.length === limit) break;
      const change = this.#change(id);
      if (change === DELETED) continue;
      out.push([id, change ?? this.#decode(id, value as Buffer)]);
    }
    return out;
  }

  /**
   * Up to `limit` entries in id order after `after`, the changes not yet checkpointed included
   * (ids added since are not on disk yet): for tables read in order, such as a time index. The
   * changes are sorted per call, so this suits reads far apart, not one per record.
   */
  scanWithChanges(after: string, limit: number): [KeyIdValue, V][] {
    const changed = new Set<KeyIdValue>();
    for (const changes of [this.#dirty, this.#sealed]) {
      for (const id of changes?.keys() ?? []) if (typeof id === 'string' && id > after) changed.add(id);
    }
    // String ids sort by code unit, as LMDB sorts their (ASCII) bytes; numeric ids sort before any string `after`.
    const fromChanges = ([...changed] as string[]).sort();
    const out: [KeyIdValue, V][] = [];
    let next = 0;
    // Changed ids before `bound` (all of them when undefined) go out first, in order; deleted ones are skipped.
    const takeChanges = (bound: KeyIdValue | undefined): void => {
      while (out.length < limit && next < fromChanges.length && (bound === undefined || fromChanges[next] < String(bound))) {
        const id = fromChanges[next++];
        const change = this.#change(id);
        if (change !== undefined && change !== DELETED) out.push([id, change]);
      }
    };
    for (const { key, value } of this.#db.getRange({ start: toLmdbKey(after) })) {
      const id = fromLmdbKey(key as string | number);
      if (id === after) continue;
      takeChanges(id);
      if (out.length === limit) return out;
      if (changed.has(id)) continue; // its change went out (or was a delete) with the changes
      out.push([id, this.#decode(id, value as Buffer)]);
      if (out.length === limit) return out;
    }
    takeChanges(undefined);
    return out;
  }

  #remember(id: KeyIdValue, value: V): void {
    if (this.#cache.size >= this.#cacheEntries) this.#cache.delete(this.#cache.keys().next().value as KeyIdValue);
    this.#cache.set(id, value);
  }

  /** The checkpoint's barrier: the changes so far become the sealed set; later ones go to a fresh one. */
  seal(): void {
    if (this.#sealed !== undefined) throw new Error(`table '${this.#scope}': a checkpoint is still being written (one at a time)`);
    this.#sealed = this.#dirty;
    this.#dirty = new Map();
  }

  get sealed(): number {
    return this.#sealed?.size ?? 0;
  }

  /**
   * Frames sealed values not framed yet, until `budget()` says stop; returns whether all are.
   * Resumable: already framed values are skipped.
   */
  frameSealed(budget: () => boolean): boolean {
    const sealed = this.#sealed;
    if (sealed === undefined) return true;
    let n = 0;
    for (const [id, change] of sealed) {
      if (change === DELETED || change instanceof Framed) continue;
      sealed.set(id, new Framed(frame(change)));
      if ((++n & 255) === 0 && !budget()) return false;
    }
    return true;
  }

  /** Queues the sealed changes as asynchronous writes (lmdb-js's write thread applies them); every value must be framed. */
  queueSealed(): void {
    for (const [id, change] of this.#sealed ?? []) {
      if (change === DELETED) void this.#db.remove(toLmdbKey(id));
      else void this.#db.put(toLmdbKey(id), change instanceof Framed ? change.bytes : frame(change));
    }
  }

  /** After the sealed changes are durable: they are the clean state now (the cache keeps some). */
  sealedWritten(): void {
    const sealed = this.#sealed;
    this.#sealed = undefined;
    for (const [id, change] of sealed ?? []) {
      if (change === DELETED || change instanceof Framed || this.#dirty.has(id) || this.#cache.has(id) || this.#cache.size >= this.#cacheEntries) continue;
      this.#cache.set(id, change);
    }
  }

  /** The write failed: the sealed changes go back under the newer ones, for the next checkpoint. */
  unseal(): void {
    const sealed = this.#sealed;
    this.#sealed = undefined;
    if (sealed === undefined) return;
    const merged = new Map<KeyIdValue, Change<V>>();
    for (const [id, change] of sealed) merged.set(id, change instanceof Framed ? (this.#decode(id, change.bytes) as Change<V>) : change);
    for (const [id, change] of this.#dirty) merged.set(id, change);
    this.#dirty = merged;
  }

  /** Inside the backend's synchronous write transaction. */
  flushInTransaction(): void {
    if (this.#sealed !== undefined) throw new Error(`table '${this.#scope}': a checkpoint is still being written`);
    for (const [id, value] of this.#dirty) {
      if (value === DELETED) this.#db.removeSync(toLmdbKey(id));
      else this.#db.putSync(toLmdbKey(id), frame(value));
    }
  }

  /** After the synchronous transaction committed: the changes are the clean state now. */
  markClean(): void {
    const dirty = this.#dirty;
    this.#dirty = new Map();
    for (const [id, value] of dirty) if (value !== DELETED && this.#cache.size < this.#cacheEntries) this.#cache.set(id, value);
  }

  discard(): void {
    this.#dirty.clear();
    this.#sealed = undefined;
    this.#cache.clear();
  }
}

/** `[crc32c u32 BE][msgpack]`: the stored form of a value. */
function frame(value: unknown): Buffer {
  const body = VALUES.pack(value);
  const framed = Buffer.allocUnsafe(4 + body.length);
  framed.writeUInt32BE(crc32c(body), 0);
  body.copy(framed, 4);
  return framed;
}

function toLmdbKey(id: KeyIdValue): string | number {
  if (typeof id === 'number') return id;
  if (typeof id === 'string' && id.length <= MAX_KEY_CHARS && id[0] !== '\u0002' && id[0] !== '\u0003') return id;
  if (typeof id === 'string' && id[0] === '\u0003' && id.length === 65) return id;
  const tagged = `\u0002${JSON.stringify(id)}`;
  return tagged.length <= MAX_KEY_CHARS ? tagged : `\u0003${createHash('sha256').update(tagged).digest('hex')}`;
}

function fromLmdbKey(key: string | number): KeyIdValue {
  if (typeof key === 'string' && key.startsWith('\u0002')) return JSON.parse(key.slice(1)) as KeyIdValue;
  return key;
}

