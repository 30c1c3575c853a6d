/**
 * The embedded durable log: topics of partitions on local disk, shared safely by every
 * process that opens the same data directory.
 *
 * Directory layout:
 * - `meta/meta.sqlite`: the metadata database (see meta.ts), the single source of truth.
 * - `topics/<name>.<id>/<partition>/`: segment files and indexes (see segment-files.ts).
 *
 * @example
 * const log = await Log.open('./.sluice');
 * log.createTopic('events', { partitions: 3 });
 * await log.produce('events', [{ key: utf8('user-1'), value: utf8('{"a":1}'), timestamp: Date.now() }]);
 * const { records } = log.read('events', 0, 0);
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type LogRecord, SluiceError } from '../core/index.ts';
import type { AppendResult } from './append.ts';
import { Appender } from './appender.ts';
import { commitOffsets, committedOffset, committedOffsets, deleteGroupOffsets, type GroupOffset } from './group-offsets.ts';
import { commitAsMember, type GroupAssignment, type GroupMember, groupMembers, groupOwners, heartbeat, type JoinOptions, joinGroup, leaveGroup } from './groups.ts';
import type { LogInternals, ProduceRecord } from './internals.ts';
import { type CompactOptions, compactPartition, enforceRetention } from './maintenance.ts';
import { MetaStore, type TopicMeta } from './meta.ts';
import { type Isolation, lastStableOffset, type Partition, type ReadOptions, type ReadResult } from './partition.ts';
import { checkPartition, type SegmentDamage } from './partition-check.ts';
import { PartitionRegistry } from './partition-registry.ts';
import { Producer } from './producer.ts';
import { type RecoveryOptions, type RecoveryReport, repairPartitions } from './recovery.ts';
import { DEFAULT_MAX_OPEN_SEGMENTS, SegmentCache } from './segment-cache.ts';
import { createTopic, type RebuiltTopic, rebuildMissingTopics, rebuildOnOpen } from './topic-admin.ts';
import { alterTopicLocked, type TopicChanges, type TopicConfig } from './topic-config.ts';
import { describePartition, type PartitionDescription, type TopicDescription } from './topic-description.ts';
import { topicDir, writeTopicFile } from './topic-files.ts';
import { abortOrphansLocked, hasOrphans } from './transactions.ts';
import { Waiters } from './waiters.ts';

export type { GroupOffset } from './group-offsets.ts';
export type { PartitionDescription, TopicDescription } from './topic-description.ts';

export interface LogOptions {
  /** Wall clock, replaceable in tests. */
  now?: () => number;
  /** How often this process runs retention, compaction and orphaned-transaction cleanup; 0 disables. */
  maintenanceIntervalMs?: number;
  /** Most segments whose files this process keeps open at once, least recently used closed first (default 64). */
  maxOpenSegments?: number;
  /**
   * Open for reading only: no metadata writes, no recovery, no maintenance, so it works on a full
   * disk (`sluice consume`, `topic list`, `topic describe`). Writing calls fail.
   */
  readOnly?: boolean;
}

export class Log {
  readonly dataDir: string;
  private readonly meta: MetaStore;
  private readonly now: () => number;
  private readonly partitions: PartitionRegistry;
  private readonly appender: Appender;
  private readonly waiters: Waiters;
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;
  private readonly internals: LogInternals;
  private readonly readOnly: boolean;

  private constructor(dataDir: string, options: LogOptions) {
    this.dataDir = dataDir;
    this.now = options.now ?? Date.now;
    const segmentCache = new SegmentCache(options.maxOpenSegments ?? DEFAULT_MAX_OPEN_SEGMENTS);
    const metaDir = join(dataDir, 'meta');
    this.readOnly = options.readOnly === true;
    if (!this.readOnly) {
      mkdirSync(metaDir, { recursive: true });
      mkdirSync(join(dataDir, 'topics'), { recursive: true });
    }
    this.meta = new MetaStore(metaDir, { readOnly: this.readOnly });
    this.waiters = new Waiters(metaDir);
    this.partitions = new PartitionRegistry(this.meta, dataDir, segmentCache, this.readOnly, (partition) => this.appender.forget(partition));
    this.appender = new Appender(this.meta, this.partitions, this.waiters, this.now, (name) => this.topic(name));
    this.internals = {
      meta: this.meta,
      lookup: (topic, index) => this.partitions.tryGet(topic, index),
      now: () => this.now(),
      topicMeta: (name) => this.topic(name),
      partition: (topic, index) => this.partition(topic, index),
      route: (topic, records) => this.appender.route(topic, records),
      appendBatch: (topic, partition, batch) => this.appender.appendTo(topic, partition, batch),
      afterLockedWrite: (files) => this.appender.afterLockedWrite(files),
    };
  }

  /** Opens (creating if needed) the log in `dataDir`, aborting transactions whose process died. */
  static async open(dataDir: string, options: LogOptions = {}): Promise<Log> {
    const log = new Log(dataDir, options);
    if (log.readOnly) return log;
    rebuildOnOpen(log.meta, dataDir);
    await log.abortOrphanedTransactions();
    const interval = options.maintenanceIntervalMs ?? 5000;
    if (interval > 0) {
      const timer = setInterval(() => void log.maintain().catch(() => undefined), interval);
      timer.unref();
      log.timers.push(timer);
    }
    const syncTimer = setInterval(() => log.appender.syncDue(), 50);
    syncTimer.unref();
    log.timers.push(syncTimer);
    return log;
  }

  // ---- topics -------------------------------------------------------------------------------

  createTopic(name: string, config: TopicConfig): TopicDescription {
    this.checkOpen();
    createTopic(this.meta, this.dataDir, name, config, this.now());
    return this.describeTopic(name);
  }

  /** Creates the topic when missing; returns its partition count. */
  ensureTopic(name: string, config: TopicConfig): number {
    const existing = this.meta.get<TopicMeta>(['topic', name]);
    if (existing) return existing.partitions;
    try {
      return this.createTopic(name, config).partitions.length;
    } catch (error) {
      if (error instanceof SluiceError && error.code === 'TOPIC_EXISTS') return this.topic(name).partitions;
      throw error;
    }
  }

  deleteTopic(name: string): void {
    this.checkOpen();
    const meta = this.topic(name);
    this.meta.locked(() => {
      this.meta.remove(['topic', name]);
      for (let p = 0; p < meta.partitions; p++) {
        this.meta.remove(['part', name, p]);
        this.meta.remove(['aborted', name, p]);
        this.meta.remove(['pstate', name, p]);
      }
    });
    this.partitions.forget(name);
    rmSync(topicDir(this.dataDir, meta), { recursive: true, force: true });
  }

  /** Changes settings of an existing topic (retention); returns the new settings. */
  alterTopic(name: string, changes: TopicChanges): TopicMeta {
    this.checkOpen();
    // The copy beside the segments is written under the lock too, so concurrent alters leave the last one in both.
    return this.meta.locked(() => {
      const altered = alterTopicLocked(this.meta, name, changes);
      try {
        writeTopicFile(topicDir(this.dataDir, altered), altered);
      } catch (error) {
        process.emitWarning(`topic '${name}' was altered, but its copy of the settings (topic.json) was not updated: ${(error as Error).message}`, {
          code: 'SLUICE_TOPIC_FILE',
        });
      }
      return altered;
    });
  }

  /**
   * Puts topics whose files are on disk (with their `topic.json`) but which the metadata does
   * not know back into the metadata, from their segment files (see rebuild.ts).
   */
  rebuildTopics(): RebuiltTopic[] {
    this.checkOpen();
    return rebuildMissingTopics(this.meta, this.dataDir);
  }

  /** Damage seen in a topic's files: missing or short segment files, and unless `verify` is false, unreadable batches. */
  checkTopic(name: string, options: { verify?: boolean } = {}): SegmentDamage[] {
    const meta = this.topic(name);
    const damage: SegmentDamage[] = [];
    for (let p = 0; p < meta.partitions; p++) damage.push(...checkPartition(this.partition(name, p), options.verify ?? true));
    return damage;
  }

  listTopics(): TopicMeta[] {
    return [...this.meta.range<TopicMeta>(['topic'])].map((entry) => entry.value);
  }

  topic(name: string): TopicMeta {
    const meta = this.meta.get<TopicMeta>(['topic', name]);
    if (!meta) {
      throw new SluiceError('TOPIC_NOT_FOUND', `topic '${name}' does not exist; create it with \`sluice topic create ${name} --partitions N\``);
    }
    return meta;
  }

  describeTopic(name: string): TopicDescription {
    const meta = this.topic(name);
    const partitions: PartitionDescription[] = [];
    for (let p = 0; p < meta.partitions; p++) {
      const state = this.partition(name, p).state();
      partitions.push(describePartition(p, state));
    }
    return { name, config: meta, partitions };
  }

  // ---- writing ------------------------------------------------------------------------------

  /**
   * Appends records, each to its partition: the given one, else murmur2(key) % partitions for
   * keyed records, else one partition per call in turn. Resolves when durable per the topic's policy.
   */
  async produce(topic: string, records: readonly ProduceRecord[]): Promise<AppendResult[]> {
    this.checkOpen();
    return this.appender.produce(topic, records);
  }

  /** Appends records as one batch to one partition. */
  async append(topic: string, partition: number, records: readonly LogRecord[]): Promise<AppendResult> {
    this.checkOpen();
    return this.appender.append(topic, partition, records);
  }

  /** An idempotent producer, or a transactional one with `transactionalId`. */
  producer(options: { transactionalId?: string } = {}): Promise<Producer> {
    this.checkOpen();
    return Producer.create(this.internals, options.transactionalId);
  }

  // ---- reading ------------------------------------------------------------------------------

  read(topic: string, partition: number, offset: number, options: ReadOptions = {}): ReadResult {
    this.checkOpen();
    return this.partition(topic, partition).read(offset, options);
  }

  startOffset(topic: string, partition: number): number {
    return this.partition(topic, partition).state().logStart;
  }

  /** The end a reader sees: the next offset, or for read_committed the last stable offset. */
  endOffset(topic: string, partition: number, isolation: Isolation = 'read_uncommitted'): number {
    const state = this.partition(topic, partition).state();
    return isolation === 'read_committed' ? lastStableOffset(state) : state.next;
  }

  offsetForTimestamp(topic: string, partition: number, timestamp: number): number {
    return this.partition(topic, partition).offsetForTimestamp(timestamp);
  }

  /** Resolves true when data at `offset` is readable, false after `timeoutMs` or on abort. */
  waitForData(
    topic: string,
    partition: number,
    offset: number,
    timeoutMs: number,
    options: { isolation?: Isolation; signal?: AbortSignal } = {},
  ): Promise<boolean> {
    this.checkOpen();
    const handle = this.partition(topic, partition);
    return this.waiters.wait(() => this.endOffsetOf(handle, options.isolation) > offset, timeoutMs, options.signal);
  }

  // ---- consumer groups ----------------------------------------------------------------------

  commitOffsets(group: string, offsets: readonly GroupOffset[]): void {
    this.checkOpen();
    commitOffsets(this.meta, group, offsets);
  }

  /**
   * Joins a consumer group as a member sharing the partitions of `topics` with the group's
   * other members (see groups.ts); heartbeat with `groupHeartbeat`, leave with `leaveGroup`.
   */
  joinGroup(group: string, topics: readonly string[], options: JoinOptions = {}): GroupAssignment {
    this.checkOpen();
    for (const topic of topics) this.topic(topic);
    return joinGroup(this.groupContext(), group, topics, options);
  }

  /** Renews the member's session and hands partitions over; `positions` by `partitionKey(topic, partition)`. */
  groupHeartbeat(group: string, memberId: string, positions: ReadonlyMap<string, number>): GroupAssignment {
    this.checkOpen();
    return heartbeat(this.groupContext(), group, memberId, positions);
  }

  /** Commits offsets as a member: only for partitions it owns (ILLEGAL_GENERATION otherwise). */
  commitMemberOffsets(group: string, memberId: string, offsets: readonly GroupOffset[]): void {
    this.checkOpen();
    commitAsMember(this.groupContext(), group, memberId, offsets);
  }

  leaveGroup(group: string, memberId: string, positions: ReadonlyMap<string, number>): void {
    this.checkOpen();
    leaveGroup(this.groupContext(), group, memberId, positions);
  }

  groupMembers(group: string): GroupMember[] {
    return groupMembers(this.groupContext(), group);
  }

  groupOwners(group: string): { topic: string; partition: number; memberId: string }[] {
    return groupOwners(this.groupContext(), group);
  }

  private groupContext() {
    return { meta: this.meta, now: () => this.now(), partitions: (topic: string) => this.topic(topic).partitions };
  }

  committedOffset(group: string, topic: string, partition: number): number | undefined {
    return committedOffset(this.meta, group, topic, partition);
  }

  /** Forgets every offset `group` committed (Kafka's `DeleteGroups`); returns how many there were. */
  deleteGroupOffsets(group: string): number {
    this.checkOpen();
    return deleteGroupOffsets(this.meta, group);
  }

  committedOffsets(group: string): GroupOffset[] {
    return committedOffsets(this.meta, group);
  }

  // ---- maintenance --------------------------------------------------------------------------

  /** Runs compaction on every partition of a compacted topic now. Returns bytes saved. */
  compact(topic: string, options: CompactOptions = {}): number {
    const meta = this.topic(topic);
    if (!meta.compact) {
      throw new SluiceError('INVALID_ARGUMENT', `topic '${topic}' is not compacted; create it with --compact to compact it`);
    }
    let saved = 0;
    for (let p = 0; p < meta.partitions; p++) saved += compactPartition(this.meta, this.partition(topic, p), this.now(), options);
    return saved;
  }

  /** Applies retention to every partition of `topic` now. Returns how many segments were deleted. */
  enforceRetention(topic: string): number {
    const meta = this.topic(topic);
    let deleted = 0;
    for (let p = 0; p < meta.partitions; p++) deleted += enforceRetention(this.meta, this.partition(topic, p), this.now());
    return deleted;
  }

  /**
   * Reconciles every partition with its segment files (see recovery.ts), as opening does, and
   * reports what it kept or cut; with `acceptDataLoss`, committed records missing from the files
   * become a gap instead of a refusal (`sluice log repair --accept-data-loss`).
   */
  repair(options: RecoveryOptions = {}): RecoveryReport[] {
    this.checkOpen();
    const topics = this.listTopics();
    for (const meta of topics) this.partitions.forget(meta.name);
    return repairPartitions(this.meta, topics, options, (meta, p) => this.partitions.create(meta, p));
  }

  async abortOrphanedTransactions(): Promise<void> {
    if (!hasOrphans(this.meta)) return;
    const files = this.meta.locked(() => abortOrphansLocked(this.meta, this.internals.lookup, this.now()));
    await this.appender.afterLockedWrite(files);
  }

  private async maintain(): Promise<void> {
    await this.abortOrphanedTransactions();
    for (const meta of this.listTopics()) {
      this.enforceRetention(meta.name);
      if (meta.compact) this.compact(meta.name);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    await this.appender.idle();
    this.appender.syncDue(true);
    this.waiters.close();
    this.partitions.closeAll();
    await this.meta.close();
  }

  // ---- internals ----------------------------------------------------------------------------

  private partition(topic: string, index: number): Partition {
    return this.partitions.get(topic, index);
  }

  private endOffsetOf(partition: Partition, isolation: Isolation | undefined): number {
    const state = partition.state();
    return isolation === 'read_committed' ? lastStableOffset(state) : state.next;
  }

  private checkOpen(): void {
    if (this.closed) throw new SluiceError('LOG_CLOSED', 'the log is closed');
  }
}
