/**
 * The LogBackend on a Kafka cluster (`new Sluice({ kafka: { brokers } })`, `--kafka HOST:PORT`),
 * through @platformatic/kafka: its Admin client for topics, offsets and groups, its Fetch API
 * (v15, Kafka 3.5 and later) on connections of our own for reads (reads.ts), and its Producer for
 * writes (writer.ts). Reads are read_committed (batches.ts); keyed records are placed with Kafka's
 * murmur2 partitioner, unkeyed ones spread record by record, as on the embedded log. This file
 * holds the topics and ties the parts together: cluster metadata (metadata.ts), coordinators
 * (coordinators.ts) and group offsets (group-offsets.ts).
 *
 * Where Kafka differs from the embedded log, by its own semantics (the contract suite lists
 * them): no prepared transactions; compaction and retention run on the broker's schedule.
 */
import { Admin, type Broker, ConnectionPool } from '@platformatic/kafka';
import { partitionForKey, SluiceError } from '../../core/index.ts';
import type { BackendWriter, FetchResult, LogBackend, OutgoingRecord, TopicPartitionOffset } from '../types.ts';
import { checkKafkaConfig, type KafkaConfig } from '../../core/index.ts';
import { KafkaCoordinators } from './coordinators.ts';
import { kafkaCall } from './errors.ts';
import { checkGroup, type GroupMembership, GroupOffsets, offsetsByTopic } from './group-offsets.ts';
import { KafkaMetadata } from './metadata.ts';
import { EARLIEST, KafkaReads, LATEST } from './reads.ts';
import { LongPollWaits } from './waits.ts';
import { KafkaWriter, type WriterContext } from './writer.ts';

export type { GroupMembership } from './group-offsets.ts';

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
/** Long.MAX_VALUE: no bound on how far a record timestamp may be from the broker's clock. */
const ANY_TIME = '9223372036854775807';

export class KafkaBackend implements LogBackend {
  readonly kind = 'kafka' as const;
  readonly config: KafkaConfig;
  readonly admin: Admin;
  readonly #clientId: string;
  readonly #connections: ConnectionPool;
  readonly #waits: LongPollWaits;
  readonly #metadata: KafkaMetadata;
  readonly #reads: KafkaReads;
  readonly #coordinators: KafkaCoordinators;
  readonly #offsets: GroupOffsets;
  readonly #writers = new Set<BackendWriter>();
  #spread = 0;
  #closed = false;
  /** Set by a process that joined the app's consumer group (scale-out). */
  groupMembership: GroupMembership | undefined;

  constructor(config: KafkaConfig) {
    this.config = checkKafkaConfig(config);
    this.#clientId = this.config.clientId ?? 'sluice';
    this.admin = new Admin({ clientId: this.#clientId, bootstrapBrokers: this.config.brokers, autocreateTopics: false, retries: 3, retryDelay: 200 });
    this.#connections = new ConnectionPool(this.#clientId);
    this.#waits = new LongPollWaits(this.#clientId);
    const checkOpen = () => this.#checkOpen();
    this.#metadata = new KafkaMetadata(this.admin, this.config.brokers, checkOpen);
    this.#reads = new KafkaReads({ admin: this.admin, connections: this.#connections, metadata: this.#metadata, checkOpen, closed: () => this.#closed });
    this.#coordinators = new KafkaCoordinators(this.admin, this.#connections, this.#metadata);
    this.#offsets = new GroupOffsets({
      admin: this.admin,
      connections: this.#connections,
      metadata: this.#metadata,
      coordinators: this.#coordinators,
      member: (group) => this.groupMembership?.(group),
    });
  }

  async ensureTopic(topic: string, partitions = 1, options: { compact?: boolean; keepForever?: boolean } = {}): Promise<number> {
    this.#checkOpen();
    checkTopicName(topic);
    const known = await this.#metadata.topic(topic, true).catch((error: unknown) => {
      if (error instanceof SluiceError && error.code === 'TOPIC_NOT_FOUND') return undefined;
      throw error;
    });
    if (known !== undefined) return known.partitions;
    if (!Number.isInteger(partitions) || partitions < 1) {
      throw new SluiceError('INVALID_ARGUMENT', `topic '${topic}': partitions must be an integer of at least 1, got ${partitions}`);
    }
    const configs: Record<string, string> = {};
    if (options.compact) configs['cleanup.policy'] = 'compact';
    if (options.keepForever) Object.assign(configs, { 'retention.ms': '-1', 'retention.bytes': '-1' });
    await this.createTopic(topic, partitions, configs).catch((error: unknown) => {
      if (error instanceof SluiceError && error.code === 'TOPIC_EXISTS') return; // created meanwhile by another process
      throw error;
    });
    return (await this.#metadata.ready(topic)).partitions;
  }

  /**
   * Creates a topic with broker configs (`cleanup.policy`, `retention.ms`, ...); TOPIC_EXISTS if it
   * exists. Event time is the record timestamp, so it may be any epoch ms: the broker's check
   * against its own clock (`message.timestamp.after.max.ms`, one hour by default since Kafka 4.0)
   * is lifted for the topics Sluice creates.
   */
  async createTopic(topic: string, partitions: number, configs: Record<string, string> = {}): Promise<void> {
    checkTopicName(topic);
    const all = { 'message.timestamp.after.max.ms': ANY_TIME, 'message.timestamp.before.max.ms': ANY_TIME, ...configs };
    await kafkaCall(`creating topic '${topic}'`, () =>
      this.admin.createTopics({ topics: [topic], partitions, replicas: -1, configs: Object.entries(all).map(([name, value]) => ({ name, value })) }),
    );
    await this.#metadata.ready(topic);
  }

  /** Deletes a topic; TOPIC_NOT_FOUND if there is none. */
  async deleteTopic(topic: string): Promise<void> {
    await this.#metadata.topic(topic, true);
    await kafkaCall(`deleting topic '${topic}'`, () => this.admin.deleteTopics({ topics: [topic] }));
    this.#metadata.forget(topic);
  }

  /** The topics of the cluster, sorted (internal ones left out). */
  async topicNames(): Promise<string[]> {
    return (await kafkaCall('listing topics', () => this.admin.listTopics({ includeInternals: false }))).sort();
  }

  async partitions(topic: string): Promise<number> {
    return (await this.#metadata.topic(topic, true)).partitions;
  }

  async startOffsets(topic: string): Promise<number[]> {
    return this.#reads.listOffsets(topic, EARLIEST);
  }

  async endOffsets(topic: string): Promise<number[]> {
    return this.#reads.listOffsets(topic, LATEST);
  }

  /** Per partition, the first offset with a timestamp at or after `timestamp` (the end where there is none). */
  async offsetsForTimestamp(topic: string, timestamp: number): Promise<number[]> {
    const found = await this.#reads.listOffsets(topic, BigInt(timestamp));
    const end = await this.endOffsets(topic);
    return found.map((offset, p) => (offset < 0 ? end[p] : offset));
  }

  /** Reads committed records (see KafkaReads.fetch: reads asked for together go as one request per broker). */
  fetch(topic: string, partition: number, offset: number, maxRecords: number): Promise<FetchResult> {
    return this.#reads.fetch(topic, partition, offset, maxRecords);
  }

  async waitForData(topic: string, partition: number, offset: number, timeoutMs: number): Promise<void> {
    this.#checkOpen();
    const info = await this.#metadata.partition(topic, partition);
    const leader = info.leaders[partition];
    await this.#waits.wait({ broker: this.#metadata.broker(leader.node), topicId: info.id, partition, leaderEpoch: leader.epoch, offset }, timeoutMs);
  }

  committedOffsets(group: string, topic: string): Promise<Map<number, number>> {
    return this.#offsets.committed(group, topic);
  }

  commitOffsets(group: string, offsets: TopicPartitionOffset[]): Promise<void> {
    return this.#offsets.commit(group, offsets);
  }

  /** Deletes each partition's records before the given offset (Kafka's DeleteRecords). */
  async deleteRecordsBefore(offsets: TopicPartitionOffset[]): Promise<void> {
    const byTopic = offsetsByTopic(offsets);
    await kafkaCall('deleting consumed records', () => this.admin.deleteRecords({ topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) }));
  }

  /** The topics a group has committed offsets for. */
  groupTopics(group: string): Promise<string[]> {
    return this.#offsets.topics(group);
  }

  /** Forgets a group's committed offsets (`sluice app reset` on Kafka); a group with active members is refused by Kafka. */
  deleteGroup(group: string): Promise<void> {
    return this.#offsets.delete(group);
  }

  async openWriter(options: { transactionalId?: string } = {}): Promise<BackendWriter> {
    this.#checkOpen();
    const context: WriterContext = {
      clientId: this.#clientId,
      brokers: this.config.brokers,
      place: (topic, records) => this.#place(topic, records),
      coordinator: (group) => this.#coordinators.node(group),
      leaderEpoch: async (topic, partition) => (await this.#metadata.partition(topic, partition)).leaders[partition].epoch,
      groupMember: (group) => this.groupMembership?.(group),
      settled: (transactionalId) => this.#coordinators.settled(transactionalId),
    };
    const writer = await KafkaWriter.open(context, options.transactionalId);
    this.#writers.add(writer);
    const close = writer.close.bind(writer);
    writer.close = async () => {
      this.#writers.delete(writer);
      await close();
    };
    return writer;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const writer of [...this.#writers]) await writer.close().catch(() => undefined);
    await this.#waits.close();
    await this.#connections.close().catch(() => undefined);
    await this.admin.close().catch(() => undefined);
  }

  /** The broker coordinating `group` (its members join and heartbeat there). */
  async groupCoordinator(group: string): Promise<Broker> {
    checkGroup(group);
    return this.#coordinators.broker(group);
  }

  /** Forgets where a group's coordinator is (it moved: NOT_COORDINATOR). */
  forgetCoordinator(group: string): void {
    this.#coordinators.forget(group);
  }

  /** Each record's partition, checked against the topic: explicit, murmur2 of the key, else spread one by one. */
  async #place(topic: string, records: OutgoingRecord[]): Promise<number[]> {
    const { partitions } = await this.#metadata.topic(topic, false);
    return records.map((r) => {
      if (r.partition !== undefined) {
        if (!Number.isInteger(r.partition) || r.partition < 0 || r.partition >= partitions) {
          throw new SluiceError('PARTITION_NOT_FOUND', `topic '${topic}' has partitions 0 to ${partitions - 1}; there is no partition ${r.partition}`);
        }
        return r.partition;
      }
      if (r.key !== null) return partitionForKey(r.key, partitions);
      return this.#spread++ % partitions;
    });
  }

  #checkOpen(): void {
    if (this.#closed) throw new SluiceError('LOG_CLOSED', 'the Kafka backend is closed');
  }
}

function checkTopicName(topic: string): void {
  if (typeof topic !== 'string' || !TOPIC_NAME.test(topic) || topic === '.' || topic === '..') {
    throw new SluiceError('INVALID_TOPIC_NAME', `'${topic}' is not a valid topic name: use 1 to 249 letters, digits, '.', '_' or '-' (and not '.' or '..')`);
  }
}
