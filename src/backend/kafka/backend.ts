/**
 * The LogBackend on a Kafka cluster (`new Sluice({ kafka: { brokers } })`, `--kafka HOST:PORT`),
 * through @platformatic/kafka: its Admin client for topics, offsets and groups, its Fetch API
 * (v15, Kafka 3.5 and later) on connections of our own for reads, and its Producer for writes
 * (writer.ts). Reads are read_committed (batches.ts); keyed records are placed with Kafka's
 * murmur2 partitioner, unkeyed ones spread record by record, as on the embedded log.
 *
 * Where Kafka differs from the embedded log, by its own semantics (the contract suite lists
 * them): no prepared transactions; compaction and retention run on the broker's schedule.
 */
import { Admin, type Broker, type ClusterMetadata, ConnectionPool, describeTransactionsV0, fetchV15, offsetCommitV9, type RecordsBatch } from '@platformatic/kafka';
import { partitionForKey, SluiceError } from '../../core/index.ts';
import type { BackendWriter, FetchResult, LogBackend, OutgoingRecord, TopicPartitionOffset } from '../types.ts';
import { committedRecords } from './batches.ts';
import { checkKafkaConfig, type KafkaConfig } from '../../core/index.ts';
import { kafkaCall, kafkaError, kafkaErrorName } from './errors.ts';
import { LongPollWaits } from './waits.ts';
import { KafkaWriter, type WriterContext } from './writer.ts';

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
const READ_COMMITTED = 1;
const EARLIEST = -2n;
const LATEST = -1n;
/** The most bytes per partition a read asks for. */
const FETCH_BYTES = 4 << 20;
/** The fewest: the broker returns at least one whole batch anyway. */
const MIN_FETCH_BYTES = 16 << 10;
/** Long.MAX_VALUE: no bound on how far a record timestamp may be from the broker's clock. */
const ANY_TIME = '9223372036854775807';
/** How long a transaction's markers may take to be written before commit gives up waiting. */
const SETTLE_MS = 30_000;
/** How long a group member waits for offsets another process's transaction holds (its transaction timeout bounds it). */
const STABLE_MS = 70_000;

interface TopicInfo {
  id: string;
  partitions: number;
  leaders: { node: number; epoch: number }[];
}

/** A read waiting to go out with the others asked for in the same turn of the event loop. */
interface PendingFetch {
  topic: string;
  partition: number;
  offset: number;
  maxRecords: number;
  info: TopicInfo;
  resolve: (result: FetchResult) => void;
  reject: (error: unknown) => void;
}

/** A group membership a process holds (scale-out), for transactional offset commits. */
export type GroupMembership = (group: string) => { generationId: number; memberId: string } | undefined;

export class KafkaBackend implements LogBackend {
  readonly kind = 'kafka' as const;
  readonly config: KafkaConfig;
  readonly admin: Admin;
  readonly #clientId: string;
  readonly #reads: ConnectionPool;
  readonly #waits: LongPollWaits;
  readonly #topics = new Map<string, TopicInfo>();
  readonly #brokers = new Map<number, Broker>();
  readonly #coordinators = new Map<string, number>();
  readonly #writers = new Set<BackendWriter>();
  #fetches: PendingFetch[] = [];
  /** Per topic, the bytes a record took in the last fetch: a read asks for about what it keeps (the rest would be decoded and dropped). */
  readonly #recordBytes = new Map<string, number>();
  #spread = 0;
  #closed = false;
  /** Set by a process that joined the app's consumer group (scale-out). */
  groupMembership: GroupMembership | undefined;

  constructor(config: KafkaConfig) {
    this.config = checkKafkaConfig(config);
    this.#clientId = this.config.clientId ?? 'sluice';
    this.admin = new Admin({ clientId: this.#clientId, bootstrapBrokers: this.config.brokers, autocreateTopics: false, retries: 3, retryDelay: 200 });
    this.#reads = new ConnectionPool(this.#clientId);
    this.#waits = new LongPollWaits(this.#clientId);
  }

  async ensureTopic(topic: string, partitions = 1, options: { compact?: boolean; keepForever?: boolean } = {}): Promise<number> {
    this.#checkOpen();
    checkTopicName(topic);
    const known = await this.#topic(topic, true).catch((error: unknown) => {
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
    return (await this.#ready(topic)).partitions;
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
    await this.#ready(topic);
  }

  /** Deletes a topic; TOPIC_NOT_FOUND if there is none. */
  async deleteTopic(topic: string): Promise<void> {
    await this.#topic(topic, true);
    await kafkaCall(`deleting topic '${topic}'`, () => this.admin.deleteTopics({ topics: [topic] }));
    this.#topics.delete(topic);
  }

  /** The topics of the cluster, sorted (internal ones left out). */
  async topicNames(): Promise<string[]> {
    return (await kafkaCall('listing topics', () => this.admin.listTopics({ includeInternals: false }))).sort();
  }

  async partitions(topic: string): Promise<number> {
    return (await this.#topic(topic, true)).partitions;
  }

  async startOffsets(topic: string): Promise<number[]> {
    return this.#listOffsets(topic, EARLIEST);
  }

  async endOffsets(topic: string): Promise<number[]> {
    return this.#listOffsets(topic, LATEST);
  }

  /** Per partition, the first offset with a timestamp at or after `timestamp` (the end where there is none). */
  async offsetsForTimestamp(topic: string, timestamp: number): Promise<number[]> {
    const found = await this.#listOffsets(topic, BigInt(timestamp));
    const end = await this.endOffsets(topic);
    return found.map((offset, p) => (offset < 0 ? end[p] : offset));
  }

  /**
   * Reads committed records; an offset deleted by retention continues from the log start
   * (earliest reset). Reads asked for together (the round loop reads every partition at once)
   * go as one Fetch request per broker; any error there has each read retried on its own.
   */
  async fetch(topic: string, partition: number, offset: number, maxRecords: number): Promise<FetchResult> {
    this.#checkOpen();
    const info = await this.#partition(topic, partition);
    return new Promise((resolve, reject) => {
      this.#fetches.push({ topic, partition, offset, maxRecords, info, resolve, reject });
      if (this.#fetches.length === 1) setImmediate(() => void this.#flushFetches());
    });
  }

  async #flushFetches(): Promise<void> {
    const queued = this.#fetches;
    this.#fetches = [];
    // One request per leader, each partition at most once in it: the response has one answer per
    // partition, so two reads of the same partition (two sources on one topic) go in separate requests.
    const requests = new Map<string, { node: number; group: PendingFetch[]; partitions: Set<string> }>();
    for (const f of queued) {
      const node = f.info.leaders[f.partition].node;
      const partition = `${f.info.id}/${f.partition}`;
      let round = 0;
      while (requests.get(`${node}:${round}`)?.partitions.has(partition)) round++;
      const request = requests.get(`${node}:${round}`) ?? { node, group: [], partitions: new Set<string>() };
      request.group.push(f);
      request.partitions.add(partition);
      requests.set(`${node}:${round}`, request);
    }
    await Promise.all([...requests.values()].map(({ node, group }) => this.#fetchTogether(node, group)));
  }

  async #fetchTogether(node: number, group: PendingFetch[]): Promise<void> {
    const one = (f: PendingFetch) => this.#fetchOne(f.topic, f.partition, f.offset, f.maxRecords, f.info).then(f.resolve, f.reject);
    if (group.length === 1 || this.#closed) {
      await Promise.all(group.map(one));
      return;
    }
    try {
      const topics = new Map<string, { partition: number; currentLeaderEpoch: number; fetchOffset: bigint; lastFetchedEpoch: number; partitionMaxBytes: number }[]>();
      let total = 0;
      for (const f of group) {
        const bytes = this.#fetchBytes(f.topic, f.maxRecords);
        total += bytes;
        const list = topics.get(f.info.id) ?? [];
        list.push({ partition: f.partition, currentLeaderEpoch: f.info.leaders[f.partition].epoch, fetchOffset: BigInt(f.offset), lastFetchedEpoch: -1, partitionMaxBytes: bytes });
        topics.set(f.info.id, list);
      }
      const connection = await this.#reads.get(this.#broker(node));
      const response = await fetchV15.api.async(connection, 0, 0, total, READ_COMMITTED, 0, -1, [...topics].map(([topicId, partitions]) => ({ topicId, partitions })), [], '');
      for (const f of group) {
        const data = response.responses.find((t) => t.topicId === f.info.id)?.partitions.find((p) => p.partitionIndex === f.partition);
        f.resolve(data === undefined ? { records: [], nextOffset: f.offset } : this.#committed(f.topic, data, f.offset, f.maxRecords));
      }
    } catch {
      // One partition's trouble (a moved leader, an offset out of range) fails the whole request: each read on its own handles it.
      await Promise.all(group.map(one));
    }
  }

  /** Bytes to ask for: about what `maxRecords` records of the topic took last time (the rest would be decoded and dropped). */
  #fetchBytes(topic: string, maxRecords: number): number {
    return Math.min(FETCH_BYTES, Math.max(MIN_FETCH_BYTES, Math.ceil(maxRecords * (this.#recordBytes.get(topic) ?? 256) * 1.25)));
  }

  #committed(topic: string, data: { records?: RecordsBatch[] | null; abortedTransactions: { producerId: bigint; firstOffset: bigint }[] | null }, offset: number, maxRecords: number): FetchResult {
    const result = committedRecords(data.records ?? [], data.abortedTransactions, offset, maxRecords);
    if (result.records.length > 0) {
      let size = 0;
      for (const r of result.records) size += 70 + (r.key?.byteLength ?? 0) + (r.value?.byteLength ?? 0);
      this.#recordBytes.set(topic, size / result.records.length);
    }
    return result;
  }

  async #fetchOne(topic: string, partition: number, offset: number, maxRecords: number, info: TopicInfo): Promise<FetchResult> {
    this.#checkOpen();
    for (let attempt = 0; ; attempt++) {
      const leader = info.leaders[partition];
      const connection = await kafkaCall(`connecting to the leader of ${topic}/${partition}`, () => this.#reads.get(this.#broker(leader.node)));
      let response: Awaited<ReturnType<typeof fetchV15.api.async>>;
      try {
        const bytes = this.#fetchBytes(topic, maxRecords);
        response = await fetchV15.api.async(connection, 0, 0, bytes, READ_COMMITTED, 0, -1, [{ topicId: info.id, partitions: [{ partition, currentLeaderEpoch: leader.epoch, fetchOffset: BigInt(offset), lastFetchedEpoch: -1, partitionMaxBytes: bytes }] }], [], '');
      } catch (error) {
        const name = kafkaErrorName(error);
        if (name === 'OFFSET_OUT_OF_RANGE') {
          const [start] = [(await this.startOffsets(topic))[partition]];
          const [end] = [(await this.#listOffsets(topic, LATEST))[partition]];
          if (offset < start) {
            offset = start;
            continue;
          }
          throw new SluiceError('OFFSET_OUT_OF_RANGE', `${topic}/${partition}: offset ${offset} is outside [${start}, ${end}]`, { cause: error });
        }
        if (attempt < 3 && (name === 'NOT_LEADER_OR_FOLLOWER' || name === 'FENCED_LEADER_EPOCH' || name === 'UNKNOWN_LEADER_EPOCH' || name === 'UNKNOWN_TOPIC_ID')) {
          Object.assign(info, await this.#topic(topic, true));
          continue;
        }
        throw kafkaError(error, `fetching ${topic}/${partition} from offset ${offset}`);
      }
      const data = response.responses[0]?.partitions[0];
      if (data === undefined) return { records: [], nextOffset: offset };
      return this.#committed(topic, data, offset, maxRecords);
    }
  }

  async waitForData(topic: string, partition: number, offset: number, timeoutMs: number): Promise<void> {
    this.#checkOpen();
    const info = await this.#partition(topic, partition);
    const leader = info.leaders[partition];
    await this.#waits.wait({ broker: this.#broker(leader.node), topicId: info.id, partition, leaderEpoch: leader.epoch, offset }, timeoutMs);
  }

  async committedOffsets(group: string, topic: string): Promise<Map<number, number>> {
    checkGroup(group);
    const info = await this.#topic(topic, false);
    const partitionIndexes = Array.from({ length: info.partitions }, (_, p) => p);
    // A group member (scale-out) reads stable offsets (KIP-447): offsets a transaction of another
    // process still holds (a process that lost the task, committing) are waited for, so the new
    // owner starts where that commit leaves off. Otherwise they are left out (not waited for);
    // a commit waits for its markers (writer.ts), so they count once it returns.
    const requireStable = this.groupMembership?.(group) !== undefined;
    const read = () => this.admin.listConsumerGroupOffsets({ groups: [{ groupId: group, topics: [{ name: topic, partitionIndexes }] }], requireStable });
    const [answer] = await kafkaCall(`reading the offsets of group '${group}'`, () => retryWhile(read, (error) => kafkaErrorName(error) === 'UNSTABLE_OFFSET_COMMIT', STABLE_MS));
    const offsets = new Map<number, number>();
    for (const t of answer?.topics ?? []) {
      for (const p of t.partitions) if (p.committedOffset >= 0n) offsets.set(p.partitionIndex, Number(p.committedOffset));
    }
    return offsets;
  }

  async commitOffsets(group: string, offsets: TopicPartitionOffset[]): Promise<void> {
    checkGroup(group);
    const byTopic = new Map<string, { partition: number; offset: bigint }[]>();
    for (const { topic, partition, offset } of offsets) {
      const list = byTopic.get(topic) ?? [];
      list.push({ partition, offset: BigInt(offset) });
      byTopic.set(topic, list);
    }
    const member = this.groupMembership?.(group);
    if (member === undefined) {
      await kafkaCall(`committing the offsets of group '${group}'`, () => this.admin.alterConsumerGroupOffsets({ groupId: group, topics: [...byTopic].map(([name, partitionOffsets]) => ({ name, partitionOffsets })) }));
      return;
    }
    // A member commits with its generation: the group refuses a commit of a member it dropped (a zombie).
    const connection = await kafkaCall('connecting to the group coordinator', async () => this.#reads.get(await this.groupCoordinator(group)));
    const topics = [...byTopic].map(([name, list]) => ({ name, partitions: list.map((p) => ({ partitionIndex: p.partition, committedOffset: p.offset, committedLeaderEpoch: -1, committedMetadata: null })) }));
    await kafkaCall(`committing the offsets of group '${group}'`, () => offsetCommitV9.api.async(connection, group, member.generationId, member.memberId, null, topics));
  }

  /** Deletes each partition's records before the given offset (Kafka's DeleteRecords). */
  async deleteRecordsBefore(offsets: TopicPartitionOffset[]): Promise<void> {
    const byTopic = new Map<string, { partition: number; offset: bigint }[]>();
    for (const { topic, partition, offset } of offsets) byTopic.set(topic, [...(byTopic.get(topic) ?? []), { partition, offset: BigInt(offset) }]);
    await kafkaCall('deleting consumed records', () => this.admin.deleteRecords({ topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) }));
  }

  /** The topics a group has committed offsets for. */
  async groupTopics(group: string): Promise<string[]> {
    checkGroup(group);
    const [answer] = await kafkaCall(`reading the offsets of group '${group}'`, () => this.admin.listConsumerGroupOffsets({ groups: [group] }));
    return (answer?.topics ?? []).map((t) => t.name).sort();
  }

  /** Forgets a group's committed offsets (`sluice app reset` on Kafka); a group with active members is refused by Kafka. */
  async deleteGroup(group: string): Promise<void> {
    checkGroup(group);
    await kafkaCall(`deleting group '${group}'`, () => this.admin.deleteGroups({ groups: [group] })).catch((error: unknown) => {
      if (kafkaErrorName(error) === 'GROUP_ID_NOT_FOUND') return;
      throw error;
    });
  }

  async openWriter(options: { transactionalId?: string } = {}): Promise<BackendWriter> {
    this.#checkOpen();
    const context: WriterContext = {
      clientId: this.#clientId,
      brokers: this.config.brokers,
      place: (topic, records) => this.#place(topic, records),
      coordinator: (group) => this.#coordinator(group),
      leaderEpoch: async (topic, partition) => (await this.#partition(topic, partition)).leaders[partition].epoch,
      groupMember: (group) => this.groupMembership?.(group),
      settled: (transactionalId) => this.#settled(transactionalId),
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
    await this.#reads.close().catch(() => undefined);
    await this.admin.close().catch(() => undefined);
  }

  /** Each record's partition, checked against the topic: explicit, murmur2 of the key, else spread one by one. */
  async #place(topic: string, records: OutgoingRecord[]): Promise<number[]> {
    const { partitions } = await this.#topic(topic, false);
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

  /** Resolves when the transactional id has no transaction whose markers are still being written. */
  async #settled(transactionalId: string): Promise<void> {
    const key = `transaction:${transactionalId}`;
    let node = this.#coordinators.get(key);
    if (node === undefined) {
      const [found] = await kafkaCall(`finding the coordinator of transactional id '${transactionalId}'`, () => this.admin.findCoordinator({ keyType: 1, keys: [transactionalId] }));
      if (found === undefined || found.nodeId < 0) return;
      node = found.nodeId;
      this.#coordinators.set(key, node);
    }
    if (!this.#brokers.has(node)) for (const [id, broker] of (await kafkaCall('reading the cluster metadata', () => this.admin.metadata({ topics: [] }))).brokers) this.#brokers.set(id, broker);
    const broker = this.#broker(node);
    const connection = await kafkaCall('connecting to the transaction coordinator', () => this.#reads.get(broker));
    const describe = async () => {
      const { transactionStates } = await describeTransactionsV0.api.async(connection, [transactionalId]);
      const state = transactionStates[0]?.transactionState;
      if (state === 'PrepareCommit' || state === 'PrepareAbort' || state === 'PrepareEpochFence') throw new Error(`transaction ${state}`);
    };
    await kafkaCall(`waiting for the markers of transactional id '${transactionalId}'`, () => retryWhile(describe, (error) => error instanceof Error && /^transaction Prepare/.test(error.message), SETTLE_MS));
  }

  /** The broker coordinating `group` (its members join and heartbeat there). */
  async groupCoordinator(group: string): Promise<Broker> {
    checkGroup(group);
    const node = await this.#coordinator(group);
    if (!this.#brokers.has(node)) for (const [id, broker] of (await kafkaCall('reading the cluster metadata', () => this.admin.metadata({ topics: [] }))).brokers) this.#brokers.set(id, broker);
    return this.#broker(node);
  }

  /** Forgets where a group's coordinator is (it moved: NOT_COORDINATOR). */
  forgetCoordinator(group: string): void {
    this.#coordinators.delete(group);
  }

  async #coordinator(group: string): Promise<number> {
    const known = this.#coordinators.get(group);
    if (known !== undefined) return known;
    const [found] = await kafkaCall(`finding the coordinator of group '${group}'`, () => this.admin.findCoordinator({ keyType: 0, keys: [group] }));
    if (found === undefined || found.nodeId < 0) throw new SluiceError('IO_FAILED', `Kafka: no coordinator for group '${group}'`);
    this.#coordinators.set(group, found.nodeId);
    return found.nodeId;
  }

  async #listOffsets(topic: string, timestamp: bigint): Promise<number[]> {
    this.#checkOpen();
    const info = await this.#topic(topic, false);
    const partitions = Array.from({ length: info.partitions }, (_, partitionIndex) => ({ partitionIndex, timestamp }));
    const answer = await kafkaCall(`listing the offsets of '${topic}'`, () => this.admin.listOffsets({ topics: [{ name: topic, partitions }], isolationLevel: READ_COMMITTED }));
    const offsets = new Array<number>(info.partitions).fill(0);
    for (const t of answer) for (const p of t.partitions) offsets[p.partitionIndex] = Number(p.offset);
    return offsets;
  }

  async #partition(topic: string, partition: number): Promise<TopicInfo> {
    const info = await this.#topic(topic, false);
    if (!Number.isInteger(partition) || partition < 0 || partition >= info.partitions) {
      throw new SluiceError('PARTITION_NOT_FOUND', `topic '${topic}' has partitions 0 to ${info.partitions - 1}; there is no partition ${partition}`);
    }
    return info;
  }

  /** A topic's id, partition count and leaders, from the cache unless `fresh`. */
  async #topic(topic: string, fresh: boolean): Promise<TopicInfo> {
    this.#checkOpen();
    const cached = this.#topics.get(topic);
    if (cached !== undefined && !fresh) return cached;
    let metadata: ClusterMetadata;
    try {
      metadata = await this.admin.metadata({ topics: [topic], forceUpdate: true, autocreateTopics: false });
    } catch (error) {
      const name = kafkaErrorName(error);
      // The client answers a topic missing from the metadata with a user error, not a protocol one.
      if (name === 'UNKNOWN_TOPIC_OR_PARTITION' || name === 'INVALID_TOPIC_EXCEPTION' || (error instanceof Error && /^Unknown topic /.test(error.message))) {
        this.#topics.delete(topic);
        throw new SluiceError('TOPIC_NOT_FOUND', `topic '${topic}' does not exist on the Kafka cluster (${this.config.brokers.join(',')}); create it with \`sluice topic create ${topic} --partitions 3 --kafka ${this.config.brokers[0]}\``, { cause: error });
      }
      throw kafkaError(error, `reading the metadata of topic '${topic}'`);
    }
    for (const [id, broker] of metadata.brokers) this.#brokers.set(id, broker);
    const meta = metadata.topics.get(topic);
    if (meta === undefined) throw new SluiceError('TOPIC_NOT_FOUND', `topic '${topic}' does not exist on the Kafka cluster`);
    const info: TopicInfo = { id: meta.id, partitions: meta.partitionsCount, leaders: meta.partitions.map((p) => ({ node: p.leader, epoch: p.leaderEpoch })) };
    this.#topics.set(topic, info);
    return info;
  }

  /** Waits until a new topic has a leader for every partition (creation is asynchronous on the broker). */
  async #ready(topic: string): Promise<TopicInfo> {
    for (let attempt = 0; ; attempt++) {
      try {
        const info = await this.#topic(topic, true);
        if (info.leaders.length === info.partitions && info.leaders.every((l) => l.node >= 0)) return info;
      } catch (error) {
        if (!(error instanceof SluiceError && error.code === 'TOPIC_NOT_FOUND') || attempt >= 50) throw error;
      }
      if (attempt >= 50) throw new SluiceError('IO_FAILED', `Kafka: topic '${topic}' has no leader for every partition after creation`);
      await new Promise((resolve) => setTimeout(resolve, 50 + attempt * 10));
    }
  }

  #broker(node: number): Broker {
    const broker = this.#brokers.get(node);
    if (broker === undefined) throw new SluiceError('IO_FAILED', `Kafka: broker ${node} is not in the cluster metadata`);
    return broker;
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

/** Runs `action` again while it fails with what `retry` accepts, with growing pauses, for at most `boundMs`. */
async function retryWhile<T>(action: () => Promise<T>, retry: (error: unknown) => boolean, boundMs: number): Promise<T> {
  const deadline = Date.now() + boundMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await action();
    } catch (error) {
      if (!retry(error) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(100, 2 + attempt * 5)));
    }
  }
}

function checkGroup(group: string): void {
  if (typeof group !== 'string' || group === '') throw new SluiceError('INVALID_ARGUMENT', 'a consumer group needs a non-empty name');
}
