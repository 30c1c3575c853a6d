/**
 * The on-disk state backend: every keyed table is a named database in one LMDB environment per
 * app (`<dataDir>/state/<app>/`), so state can be far larger than the heap. Between
 * checkpoints a table keeps its changes in memory (a bounded cache serves reads of clean
 * entries). A checkpoint seals those changes at its barrier and writes them with the job's
 * checkpoint record in one LMDB write transaction, asynchronously (lmdb-js's write thread does
 * the B-tree work while processing goes on), so what is on disk is always exactly one complete
 * checkpoint (lmdb-table.ts keeps the sealed set safe from changes made after the barrier).
 *
 * On disk: each value is `[crc32c u32 BE][msgpack bytes]` (structured clone, so Maps, Sets,
 * Dates and cycles survive); a value whose checksum fails is refused (STATE_CORRUPT, naming the
 * table and key) instead of being counted on. Key `format` of `\u0000meta` holds the layout
 * version (2: checksummed values), so state written without checksums is not misread as damage.
 * Table ids LMDB cannot store as they are (null, booleans) are tagged strings, and ids over 500
 * characters are stored by their SHA-256. The checkpoint record is `[crc32c, bytes]` under key `checkpoint` of database
 * `\u0000meta`, so a damaged record is detected rather than trusted.
 */
import { mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '@node-rs/crc32';
import { type Database, type DatabaseOptions, type RootDatabase, open } from 'lmdb';
import { isProcessAlive, SELF_START, SluiceError } from '../core/index.ts';
import type { DurableStore, StateBackend, TableSize } from './backend.ts';
import { checkLmdbFile } from './lmdb-file.ts';
import { DAMAGE_ADVICE, LmdbTable, VALUES } from './lmdb-table.ts';
import type { KeyedTable } from './table.ts';

const META_DB = '\u0000meta';
/** The on-disk layout: 2 = values framed with a CRC32C. */
const FORMAT = 2;
/** The longest the framing of a checkpoint's values holds the event loop before it lets processing run. */
const FRAME_SLICE_MS = 5;

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
  /** A checkpoint's changes are sealed and being written (one at a time). */
  #sealed = false;
  #loopMs = 0;

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

  /**
   * Writes every table's changes and `record` (the job's checkpoint) in one durable transaction,
   * synchronously: for a record written alone (a fresh start) and callers outside a running job.
   * A running job seals at its barrier and writes with `writeCheckpoint` instead.
   */
  checkpoint(record: Uint8Array): void {
    if (this.#sealed) throw new Error(`the state in '${this.dir}': a checkpoint is still being written`);
    try {
      this.#env.transactionSync(() => {
        for (const table of this.#tables.values()) table.flushInTransaction();
        this.#meta.putSync('checkpoint', frameRecord(record));
      });
    } catch (cause) {
      throw writeFailed(this.dir, cause);
    }
    for (const table of this.#tables.values()) table.markClean();
  }

  /**
   * A checkpoint's barrier: every table's changes so far become that checkpoint's change set
   * (O(tables), nothing copied); changes after it go to the next one. `writeCheckpoint` writes it.
   */
  seal(): void {
    if (this.#sealed) throw new Error(`the state in '${this.dir}': a checkpoint is still being written (one at a time)`);
    for (const table of this.#tables.values()) table.seal();
    this.#sealed = true;
  }

  /**
   * Writes the sealed changes (sealing now if the barrier did not) and `record` in one durable
   * LMDB transaction, off the caller's thread: values are framed in slices of at most
   * `FRAME_SLICE_MS` between which the event loop runs (processing goes on), then every write
   * is queued in one event turn as one lmdb-js batch, which its write thread applies and
   * commits; the promise resolves once that commit is flushed to disk. On failure the changes
   * go back to the tables for the next checkpoint, and the previous checkpoint stays on disk.
   */
  get loopMs(): number {
    return this.#loopMs;
  }

  async writeCheckpoint(record: Uint8Array): Promise<void> {
    if (!this.#sealed) this.seal();
    const tables = [...this.#tables.values()];
    try {
      for (const table of tables) {
        for (;;) {
          const start = performance.now();
          const until = start + FRAME_SLICE_MS;
          const framedAll = table.frameSealed(() => performance.now() < until);
          this.#loopMs += performance.now() - start;
          if (framedAll) break;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
      const start = performance.now();
      const framed = frameRecord(record);
      const written = this.#env.batch(() => {
        for (const table of tables) table.queueSealed();
        void this.#meta.put('checkpoint', framed);
      });
      this.#loopMs += performance.now() - start;
      await written;
      // lmdb-js commits with overlapping sync: the commit is visible before it is on disk.
      await this.#env.flushed;
    } catch (cause) {
      for (const table of tables) table.unseal();
      this.#sealed = false;
      throw writeFailed(this.dir, cause);
    }
    for (const table of tables) table.sealedWritten();
    this.#sealed = false;
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

/** `[crc32c u32 BE][record]`: the stored checkpoint record. */
function frameRecord(record: Uint8Array): Buffer {
  const framed = Buffer.alloc(4 + record.length);
  framed.writeUInt32BE(crc32c(record), 0);
  framed.set(record, 4);
  return framed;
}

function writeFailed(dir: string, cause: unknown): SluiceError {
  return new SluiceError('IO_FAILED', `writing the checkpoint to '${dir}' failed (is the disk full?); the previous checkpoint is intact and the pipeline stops here`, { cause });
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
