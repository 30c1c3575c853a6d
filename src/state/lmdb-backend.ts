/**
 * The on-disk state backend: every keyed table is a named database in one LMDB environment per
 * app (`<dataDir>/state/<app>/`), so state can be far larger than the heap. Between
 * checkpoints a table keeps its changes in memory (a bounded cache serves reads of clean
 * entries); `checkpoint()` writes every table's changes and the job's checkpoint record in one
 * LMDB write transaction, so what is on disk is always exactly one complete checkpoint.
 *
 * On disk: each value is `[crc32c u32 BE][msgpack bytes]` (structured clone, so Maps, Sets,
 * Dates and cycles survive); a value whose checksum fails is refused (STATE_CORRUPT, naming the
 * table and key) instead of being counted on. Key `format` of `\u0000meta` holds the layout
 * version (2: checksummed values), so state written without checksums is not misread as damage.
 * Table ids LMDB cannot store as they are (null, booleans) are tagged strings, and ids over 500
 * characters are stored by their SHA-256. The checkpoint record is `[crc32c, bytes]` under key `checkpoint` of database
 * `\u0000meta`, so a damaged record is detected rather than trusted.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '@node-rs/crc32';
import { type Database, type DatabaseOptions, type RootDatabase, open } from 'lmdb';
import { Packr } from 'msgpackr';
import { isProcessAlive, SELF_START, SluiceError } from '../core/index.ts';
import type { DurableStore, StateBackend, TableSize } from './backend.ts';
import { checkLmdbFile } from './lmdb-file.ts';
import type { KeyedTable, KeyIdValue } from './table.ts';

const DELETED = Symbol('deleted');
/** Structured clone: Maps, Sets, Dates and shared references round-trip. */
const VALUES = new Packr({ structuredClone: true });
const META_DB = '\u0000meta';
/** The on-disk layout: 2 = values framed with a CRC32C. */
const FORMAT = 2;
const DAMAGE_ADVICE = 'Restore the app from its last savepoint (sluice savepoint list APP, then sluice run FILE --from-savepoint ID), or reset it to reprocess its input (sluice app reset APP)';
/** LMDB keys are at most 1978 bytes here: longer ids are stored under their SHA-256 (entries() then yields that). */
const MAX_KEY_CHARS = 500;

export interface LmdbStateOptions {
  /** Clean entries each table keeps in memory (default 10,000). */
  cacheEntries?: number;
}

export class LmdbStateBackend implements StateBackend, DurableStore {
  readonly kind = 'lmdb';
  readonly dir: string;
  readonly #env: RootDatabase;
  readonly #meta: Database;
  readonly #tables = new Map<string, LmdbTable<unknown>>();
  readonly #cacheEntries: number;

  private constructor(dir: string, env: RootDatabase, options: LmdbStateOptions) {
    this.dir = dir;
    this.#env = env;
    this.#meta = env.openDB({ name: META_DB, encoding: 'binary' });
    this.#cacheEntries = options.cacheEntries ?? 10_000;
  }

  /**
   * Opens (creating) the state of one app under `dir`. One process at a time: a second instance
   * of the app would write state its checkpoints do not name, so it is refused while the
   * owner (recorded in `owner.json`, pid and start time) is alive.
   */
  static open(dir: string, options: LmdbStateOptions = {}): LmdbStateBackend {
    mkdirSync(dir, { recursive: true });
    claimOwnership(dir);
    let env: RootDatabase | undefined;
    try {
      checkLmdbFile(join(dir, 'state.mdb'), DAMAGE_ADVICE);
      env = open({ path: join(dir, 'state.mdb'), maxDbs: 10_000, encoder: VALUES });
      const backend = new LmdbStateBackend(dir, env, options);
      backend.#checkFormat();
      return backend;
    } catch (cause) {
      void env?.close();
      releaseOwnership(dir);
      if (cause instanceof SluiceError) throw cause;
      throw new SluiceError('STATE_CORRUPT', `the state in '${dir}' cannot be opened. ${DAMAGE_ADVICE}`, { cause });
    }
  }

  /** The backend is its own durable store: tables and checkpoint record in one LMDB environment. */
  get store(): DurableStore {
    return this;
  }

  get location(): string {
    return this.dir;
  }

  /** A fresh environment gets the current format; one written without value checksums is refused, not misread. */
  #checkFormat(): void {
    const format = this.#meta.get('format') as Buffer | undefined;
    if (format !== undefined && format.length === 4 && format.readUInt32BE(0) === FORMAT) return;
    const hasTables = [...(this.#env.getKeys() as Iterable<string>)].some((name) => name !== META_DB);
    if (format !== undefined || hasTables) {
      throw new SluiceError('STATE_INCOMPATIBLE', `the state in '${this.dir}' was written by another version of Sluice (format ${format === undefined ? 1 : format.toString('hex')}, this one reads ${FORMAT}). ${DAMAGE_ADVICE}`);
    }
    const mark = Buffer.alloc(4);
    mark.writeUInt32BE(FORMAT, 0);
    this.#meta.putSync('format', mark);
  }

  table<V>(scope: string): KeyedTable<V> {
    let table = this.#tables.get(scope);
    if (table === undefined) {
      // Values are framed with their checksum by the table itself, so the database stores bytes.
      table = new LmdbTable(this.#env.openDB({ name: scope, encoding: 'binary' } as DatabaseOptions & { name: string }), scope, this.#cacheEntries);
      this.#tables.set(scope, table);
    }
    return table as KeyedTable<V>;
  }

  /** Every table opened in this run, with its entries (a savepoint copies them). */
  tables(): [scope: string, entries: Iterable<[unknown, unknown]>][] {
    return [...this.#tables].map(([scope, table]) => [scope, table.entries()]);
  }

  /** Exact on-disk sizes as of the last checkpoint: each table's B-tree pages (branch, leaf, overflow) times the page size. */
  sizes(): TableSize[] {
    return [...this.#tables].map(([scope, table]) => ({ scope, ...table.size() }));
  }

  get pending(): number {
    let n = 0;
    for (const table of this.#tables.values()) n += table.pending;
    return n;
  }

  /** Writes every table's changes and `record` (the job's checkpoint) in one durable transaction. */
  checkpoint(record: Uint8Array): void {
    try {
      this.#env.transactionSync(() => {
        for (const table of this.#tables.values()) table.flushInTransaction();
        const framed = Buffer.alloc(4 + record.length);
        framed.writeUInt32BE(crc32c(record), 0);
        framed.set(record, 4);
        this.#meta.putSync('checkpoint', framed);
      });
    } catch (cause) {
      throw new SluiceError('IO_FAILED', `writing the checkpoint to '${this.dir}' failed (is the disk full?); the previous checkpoint is intact and the pipeline stops here`, { cause });
    }
    for (const table of this.#tables.values()) table.markClean();
  }

  /**
   * Writes every table's changes without a checkpoint record: for a bulk restore into cleared
   * state, where no record names the tables yet (a crash meanwhile leaves no checkpoint, so the
   * next start clears them again).
   */
  flushTables(): void {
    this.#env.transactionSync(() => {
      for (const table of this.#tables.values()) table.flushInTransaction();
    });
    for (const table of this.#tables.values()) table.markClean();
  }

  /** The last checkpoint record, or undefined when none was taken. */
  lastCheckpoint(): Uint8Array | undefined {
    const framed = this.#meta.get('checkpoint') as Buffer | undefined;
    if (framed === undefined) return undefined;
    const record = framed.subarray(4);
    if (framed.length < 4 || framed.readUInt32BE(0) !== crc32c(record)) {
      throw new SluiceError('CHECKPOINT_CORRUPT', `the checkpoint record in '${this.dir}' fails its checksum; the state there cannot be trusted: remove the directory to start from the committed offsets without state, or start from a savepoint`);
    }
    return new Uint8Array(record);
  }

  /**
   * Drops every table and the checkpoint record (a fresh start, or before restoring a savepoint);
   * the tables `keep` names stay (a new run after a bounded one keeps its tables).
   */
  clear(keep?: (scope: string) => boolean): void {
    this.#env.transactionSync(() => {
      for (const name of this.#env.getKeys() as Iterable<string>) {
        if (name === META_DB || keep?.(name)) continue;
        this.#env.openDB({ name }).clearSync();
      }
      this.#meta.clearSync();
      const mark = Buffer.alloc(4);
      mark.writeUInt32BE(FORMAT, 0);
      this.#meta.putSync('format', mark);
    });
    for (const [scope, table] of this.#tables) if (!keep?.(scope)) table.discard();
  }

  async close(): Promise<void> {
    await this.#env.close();
    releaseOwnership(this.dir);
  }

  /** Removes an app's state directory. */
  static destroy(dir: string): void {
    rmSync(dir, { recursive: true, force: true });
  }
}

class LmdbTable<V> implements KeyedTable<V> {
  readonly durable = true;
  readonly #db: Database;
  readonly #scope: string;
  readonly #cacheEntries: number;
  /** Changes since the last checkpoint: the new value, or DELETED. */
  #dirty = new Map<KeyIdValue, V | typeof DELETED>();
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

  get(id: KeyIdValue): V | undefined {
    const dirty = this.#dirty.get(id);
    if (dirty !== undefined) return dirty === DELETED ? undefined : dirty;
    const cached = this.#cache.get(id);
    if (cached !== undefined) return cached;
    const stored = this.#db.get(toLmdbKey(id)) as Buffer | undefined;
    if (stored === undefined) return undefined;
    const value = this.#decode(id, stored);
    this.#remember(id, value);
    return value;
  }

  set(id: KeyIdValue, value: V): void {
    this.#dirty.set(id, value);
    this.#cache.delete(id);
  }

  delete(id: KeyIdValue): void {
    this.#dirty.set(id, DELETED);
    this.#cache.delete(id);
  }

  *entries(): Iterable<[KeyIdValue, V]> {
    for (const { key, value } of this.#db.getRange()) {
      const id = fromLmdbKey(key as string | number);
      if (!this.#dirty.has(id)) yield [id, this.#decode(id, value as Buffer)];
    }
    for (const [id, value] of this.#dirty) if (value !== DELETED) yield [id, value];
  }

  scan(after: KeyIdValue | undefined, limit: number): [KeyIdValue, V][] {
    const out: [KeyIdValue, V][] = [];
    const range = after === undefined ? this.#db.getRange({ limit: limit + 1 }) : this.#db.getRange({ start: toLmdbKey(after), limit: limit + 1 });
    for (const { key, value } of range) {
      const id = fromLmdbKey(key as string | number);
      if (after !== undefined && id === after) continue;
      if (out.length === limit) break;
      const dirty = this.#dirty.get(id);
      if (dirty === DELETED) continue;
      out.push([id, dirty ?? this.#decode(id, value as Buffer)]);
    }
    return out;
  }

  #remember(id: KeyIdValue, value: V): void {
    if (this.#cache.size >= this.#cacheEntries) this.#cache.delete(this.#cache.keys().next().value as KeyIdValue);
    this.#cache.set(id, value);
  }

  /** Inside the backend's write transaction. */
  flushInTransaction(): void {
    for (const [id, value] of this.#dirty) {
      if (value === DELETED) this.#db.removeSync(toLmdbKey(id));
      else this.#db.putSync(toLmdbKey(id), frame(value));
    }
  }

  /** After the transaction committed: the changes are the clean state now. */
  markClean(): void {
    const dirty = this.#dirty;
    this.#dirty = new Map();
    for (const [id, value] of dirty) if (value !== DELETED && this.#cache.size < this.#cacheEntries) this.#cache.set(id, value);
  }

  discard(): void {
    this.#dirty.clear();
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

interface Owner {
  pid: number;
  start: string;
}

function claimOwnership(dir: string): void {
  const path = join(dir, 'owner.json');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, JSON.stringify({ pid: process.pid, start: SELF_START } satisfies Owner), { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let owner: Owner | undefined;
    try {
      owner = JSON.parse(readFileSync(path, 'utf8')) as Owner;
    } catch {
      owner = undefined; // half written by a process that died: stale
    }
    if (owner !== undefined && isProcessAlive(owner.pid, owner.start)) {
      throw new SluiceError('STATE_IN_USE', `the state in '${dir}' is in use by process ${owner.pid}${owner.pid === process.pid ? ' (this one: the app is already running)' : ''}; stop that instance first: one instance of an app runs per data directory`);
    }
    rmSync(path, { force: true });
  }
  throw new SluiceError('STATE_IN_USE', `the state in '${dir}' is being claimed by another process; stop the other instance of the app`);
}

function releaseOwnership(dir: string): void {
  const path = join(dir, 'owner.json');
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as Owner;
    if (owner.pid === process.pid && owner.start === SELF_START) unlinkSync(path);
  } catch {
    // already gone
  }
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
