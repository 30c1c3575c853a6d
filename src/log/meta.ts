/**
 * The log's metadata, in one lmdb environment shared by every process that opens the data
 * directory. lmdb's write transaction is a cross-process lock that recovers when its holder
 * dies (robust mutex), so it serializes appends, and what it commits is the truth: a partition's
 * committed end lives here, and segment bytes past it (a writer killed mid-append) are never
 * read and are cut by the next writer.
 *
 * Keys (lmdb ordered keys, arrays):
 * - ['topic', name] -> TopicMeta
 * - ['part', topic, partition] -> PartitionMeta
 * - ['aborted', topic, partition] -> AbortedRange[] (aborted transactions, for read_committed)
 * - ['pstate', topic, partition] -> Record<producerId, ProducerPartitionState> (idempotence)
 * - ['group', group, topic, partition] -> next offset to read
 * - ['tid', transactionalId] -> TransactionalIdMeta
 * - ['txn', producerId] -> TxnMeta (an open or prepared transaction)
 * - ['counter', name] -> number
 */
import { type Database, type Key, open, type RootDatabase, type TransactionFlags } from 'lmdb';

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

/** Commit flags for appends: synchronous and abortable, without waiting for lmdb's flush (segments carry durability). */
const APPEND_TXN_FLAGS = 0x10003;

export class MetaStore {
  readonly root: RootDatabase<any, any>;
  readonly db: Database<any, any>;

  constructor(path: string) {
    this.root = open({ path, maxReaders: 512, mapSize: 1 << 30, overlappingSync: false });
    this.db = this.root;
  }

  /** Runs `action` holding the cross-process write lock; its writes commit atomically. */
  locked<T>(action: () => T, options: { flush?: boolean } = {}): T {
    return options.flush === false
      ? this.root.transactionSync(action, APPEND_TXN_FLAGS as TransactionFlags)
      : this.root.transactionSync(action);
  }

  get<T>(key: unknown[]): T | undefined {
    return this.db.get(key) as T | undefined;
  }

  put(key: unknown[], value: unknown): void {
    this.db.putSync(key, value);
  }

  remove(key: unknown[]): void {
    this.db.removeSync(key);
  }

  /** Entries whose key starts with `prefix`. */
  *range<T>(prefix: unknown[]): Iterable<{ key: unknown[]; value: T }> {
    for (const { key, value } of this.db.getRange({ start: prefix as Key, end: [...prefix, MAX_KEY_PART] as Key })) {
      yield { key: key as unknown[], value: value as T };
    }
  }

  nextCounter(name: string): number {
    const value = (this.get<number>(['counter', name]) ?? 0) + 1;
    this.put(['counter', name], value);
    return value;
  }

  close(): Promise<void> {
    return this.root.close();
  }
}

/** Sorts after every string and number key part in lmdb's ordered-binary encoding. */
const MAX_KEY_PART = '\uffff\uffff';
