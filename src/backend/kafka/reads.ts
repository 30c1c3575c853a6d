/**
 * Reading a Kafka topic: read_committed fetches on connections of our own (Fetch v15), those
 * asked for in the same turn of the event loop sent as one request per broker, and per-partition
 * offset lookups (earliest, latest, by timestamp).
 */
import { type Admin, type ConnectionPool, fetchV15, type RecordsBatch } from '@platformatic/kafka';
import { SluiceError } from '../../core/index.ts';
import type { FetchResult } from '../types.ts';
import { committedRecords } from './batches.ts';
import { kafkaCall, kafkaError, kafkaErrorName } from './errors.ts';
import type { KafkaMetadata, TopicInfo } from './metadata.ts';

const READ_COMMITTED = 1;
/** ListOffsets' timestamps for the first offset and the end. */
export const EARLIEST = -2n;
export const LATEST = -1n;
/** The most bytes per partition a read asks for. */
const FETCH_BYTES = 4 << 20;
/** The fewest: the broker returns at least one whole batch anyway. */
const MIN_FETCH_BYTES = 16 << 10;

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

/** What reads need of the backend: its admin client, its connections, the cluster metadata, and whether it is closed. */
export interface ReadContext {
  admin: Admin;
  connections: ConnectionPool;
  metadata: KafkaMetadata;
  /** Throws once the backend is closed. */
  checkOpen(): void;
  closed(): boolean;
}

export class KafkaReads {
  readonly #context: ReadContext;
  #fetches: PendingFetch[] = [];
  /** Per topic, the bytes a record took in the last fetch: a read asks for about what it keeps (the rest would be decoded and dropped). */
  readonly #recordBytes = new Map<string, number>();

  constructor(context: ReadContext) {
    this.#context = context;
  }

  /**
   * Reads committed records; an offset deleted by retention continues from the log start
   * (earliest reset). Reads asked for together (the round loop reads every partition at once)
   * go as one Fetch request per broker; any error there has each read retried on its own.
   */
  async fetch(topic: string, partition: number, offset: number, maxRecords: number): Promise<FetchResult> {
    this.#context.checkOpen();
    const info = await this.#context.metadata.partition(topic, partition);
    return new Promise((resolve, reject) => {
      this.#fetches.push({ topic, partition, offset, maxRecords, info, resolve, reject });
      if (this.#fetches.length === 1) setImmediate(() => void this.#flushFetches());
    });
  }

  /** Per partition, the offset ListOffsets gives for `timestamp` (EARLIEST, LATEST, or epoch ms: -1 where there is none). */
  async listOffsets(topic: string, timestamp: bigint): Promise<number[]> {
    this.#context.checkOpen();
    const info = await this.#context.metadata.topic(topic, false);
    const partitions = Array.from({ length: info.partitions }, (_, partitionIndex) => ({ partitionIndex, timestamp }));
    const answer = await kafkaCall(`listing the offsets of '${topic}'`, () => this.#context.admin.listOffsets({ topics: [{ name: topic, partitions }], isolationLevel: READ_COMMITTED }));
    const offsets = new Array<number>(info.partitions).fill(0);
    for (const t of answer) for (const p of t.partitions) offsets[p.partitionIndex] = Number(p.offset);
    return offsets;
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
    if (group.length === 1 || this.#context.closed()) {
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
      const connection = await this.#context.connections.get(this.#context.metadata.broker(node));
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
    this.#context.checkOpen();
    for (let attempt = 0; ; attempt++) {
      const leader = info.leaders[partition];
      const connection = await kafkaCall(`connecting to the leader of ${topic}/${partition}`, () => this.#context.connections.get(this.#context.metadata.broker(leader.node)));
      let response: Awaited<ReturnType<typeof fetchV15.api.async>>;
      try {
        const bytes = this.#fetchBytes(topic, maxRecords);
        response = await fetchV15.api.async(connection, 0, 0, bytes, READ_COMMITTED, 0, -1, [{ topicId: info.id, partitions: [{ partition, currentLeaderEpoch: leader.epoch, fetchOffset: BigInt(offset), lastFetchedEpoch: -1, partitionMaxBytes: bytes }] }], [], '');
      } catch (error) {
        const name = kafkaErrorName(error);
        if (name === 'OFFSET_OUT_OF_RANGE') {
          const [start] = [(await this.listOffsets(topic, EARLIEST))[partition]];
          const [end] = [(await this.listOffsets(topic, LATEST))[partition]];
          if (offset < start) {
            offset = start;
            continue;
          }
          throw new SluiceError('OFFSET_OUT_OF_RANGE', `${topic}/${partition}: offset ${offset} is outside [${start}, ${end}]`, { cause: error });
        }
        if (attempt < 3 && (name === 'NOT_LEADER_OR_FOLLOWER' || name === 'FENCED_LEADER_EPOCH' || name === 'UNKNOWN_LEADER_EPOCH' || name === 'UNKNOWN_TOPIC_ID')) {
          Object.assign(info, await this.#context.metadata.topic(topic, true));
          continue;
        }
        throw kafkaError(error, `fetching ${topic}/${partition} from offset ${offset}`);
      }
      const data = response.responses[0]?.partitions[0];
      if (data === undefined) return { records: [], nextOffset: offset };
      return this.#committed(topic, data, offset, maxRecords);
    }
  }
}
