/**
 * Consumer-group membership on the embedded log: members of a group share the partitions of
 * the topics they read, as Kafka's consumer groups do, coordinated through the metadata
 * database (its write lock serializes every change, across processes).
 *
 * A member holds a lease that its heartbeats renew; a member whose lease ran out, or whose
 * process died (pid and start time), is dropped at the next heartbeat of anyone in the group.
 * The target assignment is the range rule over the live members sorted by id (each topic's
 * partitions split into contiguous runs). A partition moves only once its previous owner has let
 * it go: at its next heartbeat the old owner commits its position for the partitions it loses
 * and releases them, and only then can the new owner claim them and start at that committed
 * offset, so a live hand-over reads nothing twice. A dead owner's partitions are claimed at
 * once, from the group's last committed offset (the at-least-once window). Commits are
 * accepted only from a partition's current owner, so a stale member (a paused process whose
 * lease ran out) cannot rewind the group: it gets ILLEGAL_GENERATION and must rejoin.
 *
 * Metadata keys (see meta.ts):
 * - ['gmember', group, memberId] -> GroupMember
 * - ['gowner', group, topic, partition] -> memberId owning the partition
 * - ['ggen', group] -> generation, bumped whenever the membership changes
 */
import { isProcessAlive, SELF_START, SluiceError } from '../core/index.ts';
import type { MetaStore } from './meta.ts';

export interface GroupMember {
  id: string;
  pid: number;
  start: string;
  topics: string[];
  sessionTimeoutMs: number;
  /** Epoch ms after which the member counts as gone unless it heartbeats. */
  leaseUntil: number;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface GroupAssignment {
  memberId: string;
  generation: number;
  /** Partitions this member owns now, by topic then partition. */
  owned: TopicPartition[];
}

export interface JoinOptions {
  /** A member that has not heartbeaten for this long is dropped (default 10 s, Kafka's session.timeout.ms). */
  sessionTimeoutMs?: number;
}

interface GroupContext {
  meta: MetaStore;
  now: () => number;
  partitions: (topic: string) => number;
}

const DEFAULT_SESSION_TIMEOUT_MS = 10_000;

/** Joins `group` to read `topics`; the returned assignment may be empty until the next heartbeat frees partitions. */
export function joinGroup(ctx: GroupContext, group: string, topics: readonly string[], options: JoinOptions = {}): GroupAssignment {
  if (!group) throw new SluiceError('INVALID_ARGUMENT', 'a consumer group needs a non-empty name');
  const sessionTimeoutMs = options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
  return ctx.meta.locked(() => {
    const id = `m${String(ctx.meta.nextCounter(`gmember:${group}`)).padStart(8, '0')}-${process.pid}`;
    const member: GroupMember = { id, pid: process.pid, start: SELF_START, topics: [...topics].sort(), sessionTimeoutMs, leaseUntil: ctx.now() + sessionTimeoutMs };
    ctx.meta.put(['gmember', group, id], member);
    bumpGeneration(ctx, group);
    return settle(ctx, group, member, new Map());
  });
}

/**
 * Renews the member's lease and moves partitions: releases the ones the target assignment gives
 * to someone else (committing `positions` for them first), claims free ones meant for it.
 * Throws ILLEGAL_GENERATION when the member was dropped (its lease ran out): rejoin.
 */
export function heartbeat(ctx: GroupContext, group: string, memberId: string, positions: ReadonlyMap<string, number>): GroupAssignment {
  return ctx.meta.locked(() => {
    const member = ctx.meta.get<GroupMember>(['gmember', group, memberId]);
    if (member === undefined || member.leaseUntil < ctx.now()) throw stale(group, memberId);
    member.leaseUntil = ctx.now() + member.sessionTimeoutMs;
    ctx.meta.put(['gmember', group, memberId], member);
    return settle(ctx, group, member, positions);
  });
}

/** Commits offsets of partitions this member owns; one it does not own refuses the whole commit. */
export function commitAsMember(ctx: GroupContext, group: string, memberId: string, offsets: readonly (TopicPartition & { offset: number })[]): void {
  ctx.meta.locked(() => {
    for (const { topic, partition } of offsets) {
      if (ctx.meta.get<string>(['gowner', group, topic, partition]) !== memberId) throw stale(group, memberId, `${topic}/${partition}`);
    }
    for (const { topic, partition, offset } of offsets) ctx.meta.put(['group', group, topic, partition], offset);
  });
}

/** Leaves the group: commits `positions` for what it owns, releases it, and lets the others rebalance. */
export function leaveGroup(ctx: GroupContext, group: string, memberId: string, positions: ReadonlyMap<string, number>): void {
  ctx.meta.locked(() => {
    for (const { key, value } of ctx.meta.range<string>(['gowner', group])) {
      if (value !== memberId) continue;
      const [, , topic, partition] = key as [string, string, string, number];
      const position = positions.get(partitionKey(topic, partition));
      if (position !== undefined) ctx.meta.put(['group', group, topic, partition], position);
      ctx.meta.remove(key);
    }
    if (ctx.meta.get(['gmember', group, memberId]) !== undefined) {
      ctx.meta.remove(['gmember', group, memberId]);
      bumpGeneration(ctx, group);
    }
  });
}

/** The members of a group still alive (for describe and tests). */
export function groupMembers(ctx: GroupContext, group: string): GroupMember[] {
  return [...ctx.meta.range<GroupMember>(['gmember', group])].map(({ value }) => value);
}

/** Who owns each partition of the group right now (partitions between owners are absent). */
export function groupOwners(ctx: GroupContext, group: string): (TopicPartition & { memberId: string })[] {
  return [...ctx.meta.range<string>(['gowner', group])].map(({ key, value }) => ({ topic: key[2] as string, partition: key[3] as number, memberId: value }));
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** Inside the lock: drop dead members, release what `member` must give up, claim what it may take. */
function settle(ctx: GroupContext, group: string, member: GroupMember, positions: ReadonlyMap<string, number>): GroupAssignment {
  const live = dropDeadMembers(ctx, group);
  const target = rangeAssignment(ctx, live);
  for (const { key, value } of ctx.meta.range<string>(['gowner', group])) {
    const [, , topic, partition] = key as [string, string, string, number];
    if (value === member.id && target.get(partitionKey(topic, partition)) !== member.id) {
      const position = positions.get(partitionKey(topic, partition));
      if (position !== undefined) ctx.meta.put(['group', group, topic, partition], position);
      ctx.meta.remove(key);
    }
  }
  const owned: TopicPartition[] = [];
  for (const topic of member.topics) {
    for (let partition = 0; partition < ctx.partitions(topic); partition++) {
      if (target.get(partitionKey(topic, partition)) !== member.id) continue;
      const owner = ctx.meta.get<string>(['gowner', group, topic, partition]);
      if (owner !== undefined && owner !== member.id) continue; // its owner has not let go yet
      ctx.meta.put(['gowner', group, topic, partition], member.id);
      owned.push({ topic, partition });
    }
  }
  return { memberId: member.id, generation: ctx.meta.get<number>(['ggen', group]) ?? 0, owned };
}

function dropDeadMembers(ctx: GroupContext, group: string): GroupMember[] {
  const live: GroupMember[] = [];
  let dropped = false;
  for (const { key, value } of ctx.meta.range<GroupMember>(['gmember', group])) {
    if (value.leaseUntil >= ctx.now() && isProcessAlive(value.pid, value.start)) {
      live.push(value);
      continue;
    }
    ctx.meta.remove(key);
    dropped = true;
  }
  if (dropped) {
    const ids = new Set(live.map((m) => m.id));
    // A dead owner cannot let go: its partitions are free now, from the group's committed offsets.
    for (const { key, value } of ctx.meta.range<string>(['gowner', group])) if (!ids.has(value)) ctx.meta.remove(key);
    bumpGeneration(ctx, group);
  }
  return live;
}

/** Kafka's range assignor: per topic, the members reading it (by id) get contiguous runs of partitions, the first ones one more. */
function rangeAssignment(ctx: GroupContext, members: readonly GroupMember[]): Map<string, string> {
  const target = new Map<string, string>();
  const topics = new Set(members.flatMap((m) => m.topics));
  for (const topic of topics) {
    const readers = members.filter((m) => m.topics.includes(topic)).sort((a, b) => (a.id < b.id ? -1 : 1));
    const n = ctx.partitions(topic);
    const each = Math.floor(n / readers.length);
    const extra = n % readers.length;
    let partition = 0;
    readers.forEach((reader, i) => {
      for (let k = 0; k < each + (i < extra ? 1 : 0); k++) target.set(partitionKey(topic, partition++), reader.id);
    });
  }
  return target;
}

function bumpGeneration(ctx: GroupContext, group: string): void {
  ctx.meta.put(['ggen', group], (ctx.meta.get<number>(['ggen', group]) ?? 0) + 1);
}

function stale(group: string, memberId: string, partition?: string): SluiceError {
  const what = partition === undefined ? '' : ` does not own ${partition} and`;
  return new SluiceError('ILLEGAL_GENERATION', `member ${memberId} of group '${group}'${what} is no longer part of the group's current generation (its session ran out, or the partition moved); rejoin the group`);
}
