/**
 * What the Kafka backend knows of the cluster: each topic's id, partition count and partition
 * leaders, and the brokers, cached from metadata requests and read again when found stale.
 */
import type { Admin, Broker, ClusterMetadata } from '@platformatic/kafka';
import { SluiceError } from '../../core/index.ts';
import { kafkaCall, kafkaError, kafkaErrorName } from './errors.ts';

export interface TopicInfo {
  id: string;
  partitions: number;
  leaders: { node: number; epoch: number }[];
}

export class KafkaMetadata {
  readonly #admin: Admin;
  readonly #bootstrap: string[];
  readonly #checkOpen: () => void;
  readonly #topics = new Map<string, TopicInfo>();
  readonly #brokers = new Map<number, Broker>();

  /** `bootstrap` names the cluster in errors; `checkOpen` throws once the backend is closed. */
  constructor(admin: Admin, bootstrap: string[], checkOpen: () => void) {
    this.#admin = admin;
    this.#bootstrap = bootstrap;
    this.#checkOpen = checkOpen;
  }

  /** A topic's id, partition count and leaders, from the cache unless `fresh`. */
  async topic(topic: string, fresh: boolean): Promise<TopicInfo> {
    this.#checkOpen();
    const cached = this.#topics.get(topic);
    if (cached !== undefined && !fresh) return cached;
    let metadata: ClusterMetadata;
    try {
      metadata = await this.#admin.metadata({ topics: [topic], forceUpdate: true, autocreateTopics: false });
    } catch (error) {
      const name = kafkaErrorName(error);
      // The client answers a topic missing from the metadata with a user error, not a protocol one.
      if (name === 'UNKNOWN_TOPIC_OR_PARTITION' || name === 'INVALID_TOPIC_EXCEPTION' || (error instanceof Error && /^Unknown topic /.test(error.message))) {
        this.#topics.delete(topic);
        throw new SluiceError('TOPIC_NOT_FOUND', `topic '${topic}' does not exist on the Kafka cluster (${this.#bootstrap.join(',')}); create it with \`sluice topic create ${topic} --partitions 3 --kafka ${this.#bootstrap[0]}\``, { cause: error });
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

  /** Forgets a deleted topic. */
  forget(topic: string): void {
    this.#topics.delete(topic);
  }

  /** The topic's info, checking that it has `partition`. */
  async partition(topic: string, partition: number): Promise<TopicInfo> {
    const info = await this.topic(topic, false);
    if (!Number.isInteger(partition) || partition < 0 || partition >= info.partitions) {
      throw new SluiceError('PARTITION_NOT_FOUND', `topic '${topic}' has partitions 0 to ${info.partitions - 1}; there is no partition ${partition}`);
    }
    return info;
  }

  /** Waits until a new topic has a leader for every partition (creation is asynchronous on the broker). */
  async ready(topic: string): Promise<TopicInfo> {
    for (let attempt = 0; ; attempt++) {
      try {
        const info = await this.topic(topic, true);
        if (info.leaders.length === info.partitions && info.leaders.every((l) => l.node >= 0)) return info;
      } catch (error) {
        if (!(error instanceof SluiceError && error.code === 'TOPIC_NOT_FOUND') || attempt >= 50) throw error;
      }
      if (attempt >= 50) throw new SluiceError('IO_FAILED', `Kafka: topic '${topic}' has no leader for every partition after creation`);
      await new Promise((resolve) => setTimeout(resolve, 50 + attempt * 10));
    }
  }

  /** A broker the cached metadata names. */
  broker(node: number): Broker {
    const broker = this.#brokers.get(node);
    if (broker === undefined) throw new SluiceError('IO_FAILED', `Kafka: broker ${node} is not in the cluster metadata`);
    return broker;
  }

  /** A broker, reading the cluster's brokers first when the cache has not seen it (a coordinator need lead no topic read so far). */
  async anyBroker(node: number): Promise<Broker> {
    if (!this.#brokers.has(node)) for (const [id, broker] of (await kafkaCall('reading the cluster metadata', () => this.#admin.metadata({ topics: [] }))).brokers) this.#brokers.set(id, broker);
    return this.broker(node);
  }
}
