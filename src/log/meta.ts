/**
 * The log's metadata, in one SQLite database (WAL mode) shared by every process that opens the
 * data directory. SQLite's write lock (`BEGIN IMMEDIATE`) is a cross-process lock that the
 * kernel releases when its holder dies, so it serializes appends, and what it commits is the
 * truth: a partition's committed end lives here, and segment bytes past it (a writer killed
 * mid-append) are never read and are cut by the next writer. (lmdb's robust mutex was tried
 * first: a process killed while holding it left other processes with failing transactions.)
 *
 * Keys (arrays, stored as their JSON text) and values (MessagePack):
 * - ['topic', name] -> TopicMeta
 * - ['part', topic, partition] -> PartitionMeta
 * - ['aborted', topic, partition] -> AbortedRange[] (aborted transactions, for read_committed)
 * - ['pstate', topic, partition] -> Record<producerId, ProducerPartitionState> (idempotence)
 * - ['group', group, topic, partition] -> next offset to read
 * - ['tid', transactionalId] -> TransactionalIdMeta
 * - ['txn', producerId] -> TxnMeta (an open or prepared transaction)
 * - ['counter', name] -> number
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { pack, unpack } from 'msgpackr';
import { SluiceError } from '../core/index.ts';
import { WalSync } from './wal-sync.ts';

export type FsyncPolicy = 'batch' | 'interval' | 'never';

export interface TopicMeta {
  name: string;
  /** Unique per creation, so a deleted and re-created topic never sees the old files. */
  id: number;
  partitions: number;
  compact: boolean;
  retentionMs: number;
  retentionBytes: number;
  deleteRetentionMs: number;
  segmentBytes: number;
  segmentMs: number;
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
  /** Largest record accepted, in bytes as stored in a batch (Kafka's max.message.bytes); absent on topics made before the limit: none. */
  maxMessageBytes?: number;
  createdAt: number;
}

export interface SegmentMeta {
  base: number;
  /** Next offset after the segment's last record. */
  next: number;
  /** Committed bytes: everything past this in the file is not part of the log. */
  bytes: number;
  maxTimestamp: number;
  createdAt: number;
  /** Bumped when compaction replaces the file, so other processes reopen it. */
  generation: number;
  /** Whether compaction has cleaned this segment. */
  cleaned?: boolean;
  /** The generation in the names of the segment's files (absent: named by base alone); see segment-files.ts. */
  fileGeneration?: number;
}

export interface PartitionMeta {
  /** Closed segments then the active one (always at least one). */
  segments: SegmentMeta[];
  logStart: number;
  next: number;
  /** producerId -> first offset of its open (or prepared) transaction in this partition. */
  openTxns: Record<string, number>;
  /** Bumped whenever the aborted list changes. */
  abortedVersion: number;
}

/** [producerId, firstOffset, lastOffset]: records of this producer in this range are aborted. */
export type AbortedRange = [number, number, number];

export interface ProducerPartitionState {
  epoch: number;
  lastSequence: number;
  /** The last few batches: [firstSequence, lastSequence, baseOffset, lastOffset], to answer retries. */
  recent: Array<[number, number, number, number]>;
}

export interface TransactionalIdMeta {
  producerId: number;
  epoch: number;
}

export type TxnState = 'ongoing' | 'prepared';

export interface TxnMeta {
  /** Unique id of this transaction, named by checkpoints: `${producerId}.${epoch}.${sequence}`. */
  id: string;
  producerId: number;
  epoch: number;
  transactionalId: string;
  state: TxnState;
  /** [topic, partition] pairs the transaction wrote to. */
  partitions: Array<[string, number]>;
  /** Consumer offsets to commit with the transaction: [group, topic, partition, offset]. */
  offsets: Array<[string, string, number, number]>;
  /** The owning process: its pid and start time, to tell a dead owner from a reused pid. */
  ownerPid: number;
  ownerStart: string;
  startedAt: number;
}

export class MetaStore {
  private readonly db: DatabaseSync;
  private readonly getStatement: StatementSync;
  private readonly putStatement: StatementSync;
  private readonly removeStatement: StatementSync;
  private readonly rangeStatement: StatementSync;
  /** Nesting depth of `locked` in this process: inner calls join the outer transaction. */
  private depth = 0;
  private synchronous: 'NORMAL' | 'FULL' = 'NORMAL';

  private readonly path: string;
  private readonly wal: WalSync;

  readonly readOnly: boolean;

  /**
   * With `readOnly`, nothing is written: not even SQLite's WAL and shared-memory files, when no
   * other process has them open (a full disk cannot create them), in which case the database
   * file, holding every commit then, is read as immutable.
   */
  constructor(dir: string, options: { readOnly?: boolean } = {}) {
    this.path = join(dir, 'meta.sqlite');
    this.wal = new WalSync(`${this.path}-wal`);
    this.readOnly = options.readOnly === true;
    this.db = this.readOnly ? openReadOnly(this.path) : new DatabaseSync(this.path);
    if (!this.readOnly) {
      try {
        this.db.exec('PRAGMA busy_timeout = 60000');
        this.db.exec('PRAGMA journal_mode = WAL');
        this.db.exec('PRAGMA synchronous = NORMAL');
        this.db.exec('CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID');
      } catch (error) {
        this.db.close();
        throw metadataFailure(this.path, error);
      }
    }
    this.getStatement = this.db.prepare('SELECT v FROM kv WHERE k = ?');
    this.putStatement = this.db.prepare('INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v');
    this.removeStatement = this.db.prepare('DELETE FROM kv WHERE k = ?');
    this.rangeStatement = this.db.prepare('SELECT k, v FROM kv WHERE k >= ? AND k < ?');
  }

  /**
   * Runs `action` holding the cross-process write lock; its writes commit atomically, and are
   * synced to disk unless `flush` is false (appends: they group-commit with `syncCommitted`).
   * Re-entrant: a nested call runs inside the outer transaction.
   */
  locked<T>(action: () => T, options: { flush?: boolean } = {}): T {
    if (this.readOnly) throw new SluiceError('INVALID_ARGUMENT', `the log was opened read-only (${this.path}); this needs to write to it`);
    if (this.depth > 0) return action();
    const synchronous = options.flush === false ? 'NORMAL' : 'FULL';
    if (synchronous !== this.synchronous) {
      this.db.exec(`PRAGMA synchronous = ${synchronous}`);
      this.synchronous = synchronous;
    }
    this.db.exec('BEGIN IMMEDIATE');
    this.depth++;
    try {
      const result = action();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw metadataFailure(this.path, error);
    } finally {
      this.depth--;
    }
  }

  /**
   * Resolves once every commit made so far is durable: commits made with `flush: false` are in
   * the WAL but not yet synced. One fdatasync serves every caller waiting at once (see wal-sync.ts).
   */
  syncCommitted(): Promise<void> {
    return this.wal.sync();
  }

  get<T>(key: unknown[]): T | undefined {
    let row: { v: Uint8Array } | undefined;
    try {
      row = this.getStatement.get(JSON.stringify(key)) as { v: Uint8Array } | undefined;
    } catch (error) {
      throw metadataFailure(this.path, error);
    }
    return row ? (unpack(row.v) as T) : undefined;
  }

  put(key: unknown[], value: unknown): void {
    this.putStatement.run(JSON.stringify(key), pack(value));
  }

  remove(key: unknown[]): void {
    this.removeStatement.run(JSON.stringify(key));
  }

  /** Entries whose key starts with `prefix`, in key order (numbers numerically). */
  *range<T>(prefix: unknown[]): Iterable<{ key: unknown[]; value: T }> {
    // Keys under the prefix continue its JSON text with ',' — the next character is '-'.
    const text = JSON.stringify(prefix).slice(0, -1);
    let rows: Array<{ k: string; v: Uint8Array }>;
    try {
      rows = this.rangeStatement.all(`${text},`, `${text}-`) as Array<{ k: string; v: Uint8Array }>;
    } catch (error) {
      throw metadataFailure(this.path, error);
    }
    const entries = rows.map((row) => ({ key: JSON.parse(row.k) as unknown[], value: unpack(row.v) as T }));
    entries.sort((a, b) => compareKeys(a.key, b.key));
    yield* entries;
  }

  nextCounter(name: string): number {
    const value = (this.get<number>(['counter', name]) ?? 0) + 1;
    this.put(['counter', name], value);
    return value;
  }

  async close(): Promise<void> {
    this.wal.close();
    if (this.db.isOpen) this.db.close();
  }
}

/** A read-only connection; as immutable when the WAL files cannot be made (a full disk) and the WAL holds nothing. */
function openReadOnly(path: string): DatabaseSync {
  if (!existsSync(path)) {
    throw new SluiceError('INVALID_ARGUMENT', `no metadata database at ${path}: the log cannot be opened read-only before it exists`);
  }
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    db.exec('PRAGMA busy_timeout = 60000');
    db.prepare('SELECT 1 FROM kv LIMIT 1').get();
    return db;
  } catch (error) {
    db.close();
    const wal = `${path}-wal`;
    const walEmpty = !existsSync(wal) || statSync(wal).size === 0;
    const { errcode } = error as { errcode?: unknown };
    if (!walEmpty || typeof errcode !== 'number' || (errcode & 0xff) !== SQLITE_IOERR) throw metadataFailure(path, error);
    const url = pathToFileURL(path);
    url.searchParams.set('immutable', '1');
    return new DatabaseSync(url, { readOnly: true });
  }
}

/** SQLite's primary result codes for a damaged file and for a failed read or write (extended codes carry them in the low byte). */
const SQLITE_IOERR = 10;
const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;

/** SQLite's errors about the database file itself, as Sluice errors naming the file and what to do; others unchanged. */
function metadataFailure(path: string, error: unknown): unknown {
  const { errcode, message } = error as { errcode?: unknown; message?: unknown };
  if (typeof errcode !== 'number' || error instanceof SluiceError) return error;
  const primary = errcode & 0xff;
  if (primary === SQLITE_CORRUPT || primary === SQLITE_NOTADB) {
    return new SluiceError(
      'METADATA_CORRUPT',
      `the log's metadata database ${path} is damaged (${String(message)}); stop every process using this data directory, then restore that file from a backup (SQLite's \`.recover\` may save part of it), or move the data directory away and start with a new one`,
      { cause: error },
    );
  }
  if (primary === SQLITE_IOERR) {
    return new SluiceError('IO_FAILED', `reading or writing the log's metadata database ${path} failed (${String(message)}); check the disk (free space, \`dmesg\` for I/O errors) and try again`, { cause: error });
  }
  return error;
}

function compareKeys(a: unknown[], b: unknown[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return a.length - b.length;
}
