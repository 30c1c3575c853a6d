/**
 * The LogBackend on the embedded durable log (src/log): what `new Sluice({ dataDir })` runs on.
 * Reads are read_committed; a transactional writer is a log Producer with a transactional id.
 */
import { Log, type Producer } from '../log/index.ts';
import type { BackendWriter, FetchResult, LogBackend, OutgoingRecord, TopicPartitionOffset } from './types.ts';

export class EmbeddedBackend implements LogBackend {
  readonly kind = 'embedded' as const;
  readonly log: Log;
  private readonly ownsLog: boolean;

  private constructor(log: Log, ownsLog: boolean) {
    this.log = log;
    this.ownsLog = ownsLog;
  }

  /** Opens the log in `dataDir` (closed with the backend). */
  static async open(dataDir: string): Promise<EmbeddedBackend> {
    return new EmbeddedBackend(await Log.open(dataDir), true);
  }

  /** Wraps a log the caller keeps open and closes. */
  static wrap(log: Log): EmbeddedBackend {
    return new EmbeddedBackend(log, false);
  }

  async ensureTopic(topic: string, partitions = 1, options: { compact?: boolean } = {}): Promise<number> {
    // Compacted internal topics use small segments, so compaction (of closed segments) keeps them
    // small; their records (a checkpoint holds memory state whole) are not limited to 1 MiB.
    return this.log.ensureTopic(topic, options.compact ? { partitions, compact: true, segmentBytes: 4 << 20, maxMessageBytes: 1 << 30 } : { partitions });
  }

  async partitions(topic: string): Promise<number> {
    return this.log.topic(topic).partitions;
  }

  async startOffsets(topic: string): Promise<number[]> {
    return this.perPartition(topic, (p) => this.log.startOffset(topic, p));
  }

  async endOffsets(topic: string): Promise<number[]> {
    return this.perPartition(topic, (p) => this.log.endOffset(topic, p, 'read_committed'));
  }

  /** Reads committed records; an offset deleted by retention continues from the log start (earliest reset). */
  async fetch(topic: string, partition: number, offset: number, maxRecords: number): Promise<FetchResult> {
    const start = this.log.startOffset(topic, partition);
    const { records, nextOffset } = this.log.read(topic, partition, Math.max(offset, start), { maxRecords, isolation: 'read_committed' });
    return { records, nextOffset };
  }

  async waitForData(topic: string, partition: number, offset: number, timeoutMs: number): Promise<void> {
    await this.log.waitForData(topic, partition, offset, timeoutMs, { isolation: 'read_committed' });
  }

  async committedOffsets(group: string, topic: string): Promise<Map<number, number>> {
    const offsets = new Map<number, number>();
    for (const entry of this.log.committedOffsets(group)) if (entry.topic === topic) offsets.set(entry.partition, entry.offset);
    return offsets;
  }

  async commitOffsets(group: string, offsets: TopicPartitionOffset[]): Promise<void> {
    this.log.commitOffsets(group, offsets);
  }

  async openWriter(options: { transactionalId?: string } = {}): Promise<BackendWriter> {
    return new EmbeddedWriter(await this.log.producer(options));
  }

  async close(): Promise<void> {
    if (this.ownsLog) await this.log.close();
  }

  private perPartition(topic: string, read: (partition: number) => number): number[] {
    return Array.from({ length: this.log.topic(topic).partitions }, (_, p) => read(p));
  }
}

/** An idempotent producer; with a transactional id, sends go inside its transactions. */
class EmbeddedWriter implements BackendWriter {
  private readonly producer: Producer;

  constructor(producer: Producer) {
    this.producer = producer;
  }

  async send(topic: string, records: OutgoingRecord[]): Promise<void> {
    await this.producer.send(topic, records);
  }

  beginTransaction(): Promise<void> {
    return this.producer.beginTransaction();
  }

  sendOffsetsToTransaction(group: string, offsets: TopicPartitionOffset[]): Promise<void> {
    return this.producer.sendOffsetsToTransaction(group, offsets);
  }

  commitTransaction(): Promise<void> {
    return this.producer.commitTransaction();
  }

  abortTransaction(): Promise<void> {
    return this.producer.abortTransaction();
  }

  prepareTransaction(): Promise<string> {
    return this.producer.prepareTransaction();
  }

  get pendingPrepared(): string | undefined {
    return this.producer.pendingPrepared;
  }

  completePrepared(commit: boolean): Promise<void> {
    return this.producer.completePrepared(commit);
  }

  async close(): Promise<void> {
    await this.producer.close();
  }
}
