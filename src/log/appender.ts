/**
 * This process's appends: records routed to their partitions and encoded, one group-committing
 * writer per partition (writer.ts), retried when the topic changed under them, and what follows
 * each write (readers woken, files remembered for the 'interval' fsync policy).
 */
import { type LogRecord, SluiceError } from '../core/index.ts';
import type { AppendResult, PendingBatch } from './append.ts';
import type { ProduceRecord } from './internals.ts';
import { IntervalSync } from './interval-sync.ts';
import type { MetaStore, TopicMeta } from './meta.ts';
import { type Partition, StaleTopic } from './partition.ts';
import type { PartitionRegistry } from './partition-registry.ts';
import { routeRecords, toPending } from './routing.ts';
import type { SegmentFile } from './segment-files.ts';
import { checkRecordSize } from './topic-config.ts';
import type { Waiters } from './waiters.ts';
import { PartitionWriter } from './writer.ts';

/** Tries of an append whose topic keeps changing under it (see `appendTo`). */
const MAX_APPEND_ATTEMPTS = 5;

export class Appender {
  private readonly writers = new Map<Partition, PartitionWriter>();
  private readonly intervalSync = new IntervalSync();
  /** Unkeyed records rotate over partitions; each process starts somewhere else. */
  private roundRobin = Math.floor(Math.random() * 1024);
  private readonly meta: MetaStore;
  private readonly partitions: PartitionRegistry;
  private readonly waiters: Waiters;
  private readonly now: () => number;
  private readonly topic: (name: string) => TopicMeta;

  constructor(meta: MetaStore, partitions: PartitionRegistry, waiters: Waiters, now: () => number, topic: (name: string) => TopicMeta) {
    this.meta = meta;
    this.partitions = partitions;
    this.waiters = waiters;
    this.now = now;
    this.topic = topic;
  }

  /** See `Log.produce`. */
  produce(topic: string, records: readonly ProduceRecord[]): Promise<AppendResult[]> {
    const cached = this.partitions.cached(topic);
    let groups: Map<number, LogRecord[]>;
    try {
      groups = routeRecords(cached ? cached.meta : this.topic(topic), records, () => this.roundRobin++);
    } catch (error) {
      if (!cached) throw error;
      groups = this.route(topic, records); // the limit may have been raised elsewhere: check against fresh settings
    }
    const pending: Array<Promise<AppendResult>> = [];
    for (const [partition, group] of groups) pending.push(this.appendTo(topic, partition, toPending(group), cached?.partitions[partition], group));
    return Promise.all(pending);
  }

  /** See `Log.append`. */
  append(topic: string, partition: number, records: readonly LogRecord[]): Promise<AppendResult> {
    let cached = this.partitions.cached(topic)?.partitions[partition];
    try {
      checkRecordSizes(cached ? cached.topic : this.topic(topic), records);
    } catch (error) {
      if (!cached) throw error;
      cached = undefined; // the limit may have been raised elsewhere: check against fresh settings
      checkRecordSizes(this.topic(topic), records);
    }
    return this.appendTo(topic, partition, toPending(records), cached, records);
  }

  /**
   * Appends `batch` through the partition's writer, starting from this process's view of the
   * partition (`cached`, read without touching the metadata: appends are the hot path). The
   * writer checks that view under the lock; when another process deleted or re-created the
   * topic, or changed its record size limit, meanwhile, nothing was written and the append is
   * tried again with fresh metadata, its `records` checked again against the fresh limit.
   */
  async appendTo(topic: string, index: number, batch: PendingBatch, cached?: Partition, records?: readonly LogRecord[]): Promise<AppendResult> {
    for (let attempt = 1; ; attempt++) {
      const partition = attempt === 1 && cached ? cached : this.partitions.get(topic, index);
      if (attempt > 1 && records) checkRecordSizes(partition.topic, records);
      try {
        return await this.writerFor(partition).append(batch);
      } catch (error) {
        if (!(error instanceof StaleTopic)) throw error;
        if (attempt >= MAX_APPEND_ATTEMPTS) {
          throw new SluiceError('IO_FAILED', `topic '${topic}' kept changing (deleted, re-created or altered) while appending to partition ${index}; try again`);
        }
      }
    }
  }

  /** Groups records by the partition they go to, against the topic's current settings. */
  route(topic: string, records: readonly ProduceRecord[]): Map<number, LogRecord[]> {
    return routeRecords(this.topic(topic), records, () => this.roundRobin++);
  }

  /** Syncs files written under the lock outside the writers (transaction markers), and wakes readers. */
  async afterLockedWrite(files: SegmentFile[]): Promise<void> {
    for (const file of files) file.sync();
    this.waiters.notify();
  }

  /** Syncs the files due under the 'interval' policy (all of them with `all`). */
  syncDue(all = false): void {
    this.intervalSync.syncDue(this.now(), all);
  }

  /** Drops the writer of a partition handle that is gone. */
  forget(partition: Partition): void {
    this.writers.delete(partition);
  }

  /** Resolves once every append handed in so far is written and synced (failures are the appenders'). */
  async idle(): Promise<void> {
    await Promise.all([...this.writers.values()].map((writer) => writer.idle().catch(() => undefined)));
  }

  private writerFor(partition: Partition): PartitionWriter {
    let writer = this.writers.get(partition);
    if (!writer) {
      writer = new PartitionWriter(partition, this.meta, this.now, (files) => this.written(partition, files));
      this.writers.set(partition, writer);
    }
    return writer;
  }

  /** After an append: remember files to sync under the interval policy, and wake local readers. */
  private written(partition: Partition, files: SegmentFile[]): void {
    if (partition.topic.fsync === 'interval') this.intervalSync.written(files, this.now(), partition.topic.fsyncIntervalMs);
    this.waiters.notify();
  }
}

export function checkRecordSizes(topic: TopicMeta, records: readonly LogRecord[]): void {
  for (let i = 0; i < records.length; i++) checkRecordSize(topic, records[i], i);
}
