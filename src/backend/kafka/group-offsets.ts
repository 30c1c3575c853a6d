/**
 * A consumer group's committed offsets on Kafka: read (stable ones for a group member, KIP-447),
 * committed (with the member's generation, so a dropped member's commit is refused), listed by
 * topic and deleted.
 */
import { type Admin, type ConnectionPool, offsetCommitV9 } from '@platformatic/kafka';
import { SluiceError } from '../../core/index.ts';
import type { TopicPartitionOffset } from '../types.ts';
import type { KafkaCoordinators } from './coordinators.ts';
import { kafkaCall, kafkaErrorName } from './errors.ts';
import type { KafkaMetadata } from './metadata.ts';
import { retryWhile } from './retry.ts';

/** How long a group member waits for offsets another process's transaction holds (its transaction timeout bounds it). */
const STABLE_MS = 70_000;

/** A group membership a process holds (scale-out), for transactional offset commits. */
export type GroupMembership = (group: string) => { generationId: number; memberId: string } | undefined;

/** What the offsets need of the backend. */
export interface GroupOffsetsContext {
  admin: Admin;
  connections: ConnectionPool;
  metadata: KafkaMetadata;
  coordinators: KafkaCoordinators;
  /** This process's membership of `group`, if it joined it (scale-out). */
  member(group: string): { generationId: number; memberId: string } | undefined;
}

export class GroupOffsets {
  readonly #context: GroupOffsetsContext;

  constructor(context: GroupOffsetsContext) {
    this.#context = context;
  }

  async committed(group: string, topic: string): Promise<Map<number, number>> {
    checkGroup(group);
    const info = await this.#context.metadata.topic(topic, false);
    const partitionIndexes = Array.from({ length: info.partitions }, (_, p) => p);
    // A group member (scale-out) reads stable offsets (KIP-447): offsets a transaction of another
    // process still holds (a process that lost the task, committing) are waited for, so the new
    // owner starts where that commit leaves off. Otherwise they are left out (not waited for);
    // a commit waits for its markers (writer.ts), so they count once it returns.
    const requireStable = this.#context.member(group) !== undefined;
    const read = () => this.#context.admin.listConsumerGroupOffsets({ groups: [{ groupId: group, topics: [{ name: topic, partitionIndexes }] }], requireStable });
    const [answer] = await kafkaCall(`reading the offsets of group '${group}'`, () => retryWhile(read, (error) => kafkaErrorName(error) === 'UNSTABLE_OFFSET_COMMIT', STABLE_MS));
    const offsets = new Map<number, number>();
    for (const t of answer?.topics ?? []) {
      for (const p of t.partitions) if (p.committedOffset >= 0n) offsets.set(p.partitionIndex, Number(p.committedOffset));
    }
    return offsets;
  }

  async commit(group: string, offsets: TopicPartitionOffset[]): Promise<void> {
    checkGroup(group);
    const byTopic = offsetsByTopic(offsets);
    const member = this.#context.member(group);
    if (member === undefined) {
      await kafkaCall(`committing the offsets of group '${group}'`, () => this.#context.admin.alterConsumerGroupOffsets({ groupId: group, topics: [...byTopic].map(([name, partitionOffsets]) => ({ name, partitionOffsets })) }));
      return;
    }
    // A member commits with its generation: the group refuses a commit of a member it dropped (a zombie).
    const connection = await kafkaCall('connecting to the group coordinator', async () => this.#context.connections.get(await this.#context.coordinators.broker(group)));
    const topics = [...byTopic].map(([name, list]) => ({ name, partitions: list.map((p) => ({ partitionIndex: p.partition, committedOffset: p.offset, committedLeaderEpoch: -1, committedMetadata: null })) }));
    await kafkaCall(`committing the offsets of group '${group}'`, () => offsetCommitV9.api.async(connection, group, member.generationId, member.memberId, null, topics));
  }

  /** The topics a group has committed offsets for. */
  async topics(group: string): Promise<string[]> {
    checkGroup(group);
    const [answer] = await kafkaCall(`reading the offsets of group '${group}'`, () => this.#context.admin.listConsumerGroupOffsets({ groups: [group] }));
    return (answer?.topics ?? []).map((t) => t.name).sort();
  }

  /** Forgets a group's committed offsets; a group with active members is refused by Kafka. */
  async delete(group: string): Promise<void> {
    checkGroup(group);
    await kafkaCall(`deleting group '${group}'`, () => this.#context.admin.deleteGroups({ groups: [group] })).catch((error: unknown) => {
      if (kafkaErrorName(error) === 'GROUP_ID_NOT_FOUND') return;
      throw error;
    });
  }
}

/** Offsets grouped by topic, as Kafka's offset and DeleteRecords requests take them. */
export function offsetsByTopic(offsets: TopicPartitionOffset[]): Map<string, { partition: number; offset: bigint }[]> {
  const byTopic = new Map<string, { partition: number; offset: bigint }[]>();
  for (const { topic, partition, offset } of offsets) {
    const list = byTopic.get(topic) ?? [];
    list.push({ partition, offset: BigInt(offset) });
    byTopic.set(topic, list);
  }
  return byTopic;
}

export function checkGroup(group: string): void {
  if (typeof group !== 'string' || group === '') throw new SluiceError('INVALID_ARGUMENT', 'a consumer group needs a non-empty name');
}
