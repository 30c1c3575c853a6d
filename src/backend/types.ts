/**
 * The LogBackend interface: all the engine knows of the log it reads and writes.
 * Implementations: embedded (src/log), memory (tests and the test kit), and Kafka (kafka/).
 */
import type { Headers } from '../core/index.ts';

export interface BackendRecord {
  key: Uint8Array | null;
  value: Uint8Array | null;
  /** Epoch milliseconds. */
  timestamp: number;
  headers?: Headers;
}

export interface FetchedRecord extends BackendRecord {
  offset: number;
}

export interface OutgoingRecord extends BackendRecord {
  /** Explicit partition; otherwise murmur2(key) % partitions for keyed records, spread for unkeyed. */
  partition?: number;
}

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  /** The next offset to read. */
  offset: number;
}

export interface FetchResult {
  records: FetchedRecord[];
  /** The offset to fetch from next (past skipped aborted and control records too). */
  nextOffset: number;
}

export interface LogBackend {
  readonly kind: 'embedded' | 'memory' | 'kafka';
  /**
   * Creates the topic if missing (with `partitions`, default 1; `compact` keeps the last record
   * per key where the backend compacts); returns its partition count.
   */
  ensureTopic(topic: string, partitions?: number, options?: { compact?: boolean }): Promise<number>;
  /** Partition count; throws SluiceError TOPIC_NOT_FOUND. */
  partitions(topic: string): Promise<number>;
  /** First readable offset per partition. */
  startOffsets(topic: string): Promise<number[]>;
  /** Per partition, the end a read_committed reader sees now (the last stable offset). */
  endOffsets(topic: string): Promise<number[]>;
  /** Reads committed records from `offset` (read_committed), at most `maxRecords`. */
  fetch(topic: string, partition: number, offset: number, maxRecords: number): Promise<FetchResult>;
  /** Resolves when data at or past `offset` may be readable, or after `timeoutMs`. Never polls in a loop. */
  waitForData(topic: string, partition: number, offset: number, timeoutMs: number): Promise<void>;
  /** Committed offsets of a consumer group for a topic (partition -> next offset). */
  committedOffsets(group: string, topic: string): Promise<Map<number, number>>;
  commitOffsets(group: string, offsets: TopicPartitionOffset[]): Promise<void>;
  /** A writer; with a transactional id it is fenced against older writers of the same id. */
  openWriter(options?: { transactionalId?: string }): Promise<BackendWriter>;
  close(): Promise<void>;
}

export interface BackendWriter {
  /** Appends now (non-transactional), or inside the open transaction. */
  send(topic: string, records: OutgoingRecord[]): Promise<void>;
  beginTransaction(): Promise<void>;
  /** Consumer offsets committed atomically with the transaction (Kafka's sendOffsetsToTransaction). */
  sendOffsetsToTransaction(group: string, offsets: TopicPartitionOffset[]): Promise<void>;
  commitTransaction(): Promise<void>;
  abortTransaction(): Promise<void>;
  /**
   * Two-phase commit, where the backend has it (the embedded log): ends the open transaction as
   * prepared, so it outlives this process, and returns its id; `commitTransaction` then commits it.
   */
  prepareTransaction?(): Promise<string>;
  /** The id of a prepared transaction an earlier writer with this transactional id left behind. */
  readonly pendingPrepared?: string | undefined;
  /** Commits or aborts that left-behind transaction. */
  completePrepared?(commit: boolean): Promise<void>;
  close(): Promise<void>;
}
