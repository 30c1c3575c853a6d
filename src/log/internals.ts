/** What the producer and maintenance modules need of an open log, without importing the Log class. */
import type { LogRecord } from '../core/index.ts';
import type { AppendResult, PendingBatch } from './append.ts';
import type { MetaStore, TopicMeta } from './meta.ts';
import type { Partition } from './partition.ts';
import type { SegmentFile } from './segment-files.ts';
import type { PartitionLookup } from './transactions.ts';

/** A record to produce; without `partition`, keyed records go to murmur2(key) % partitions. */
export interface ProduceRecord extends LogRecord {
  partition?: number;
}

export interface LogInternals {
  readonly meta: MetaStore;
  readonly lookup: PartitionLookup;
  now(): number;
  topicMeta(name: string): TopicMeta;
  partition(topic: string, index: number): Partition;
  /** Group records by the partition they go to. */
  route(topic: string, records: readonly ProduceRecord[]): Map<number, LogRecord[]>;
  appendBatch(topic: string, partition: number, batch: PendingBatch): Promise<AppendResult>;
  /** Syncs files written under the lock, per their topic's fsync policy, and wakes readers. */
  afterLockedWrite(files: SegmentFile[]): Promise<void>;
}
