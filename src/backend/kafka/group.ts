/**
 * A process's membership of its app's Kafka consumer group (scale-out), on the classic group
 * protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup), as Kafka Connect and Kafka Streams
 * use it: Kafka's coordinator keeps the members and their generation, the elected leader
 * computes the assignment, and no cluster manager of our own is involved.
 *
 * What is assigned are *tasks*: partition numbers 0..n-1 across the app's co-partitioned topics
 * (its sources and repartition topics), as Kafka Streams assigns tasks. The protocol is eager
 * (a rebalance revokes every task: the process commits, drops its tasks and rejoins), with a
 * sticky assignment: a member keeps the tasks it owned where the balance allows, so a joining
 * process moves only the tasks it takes over.
 *
 * Wire format of our protocol (protocol type `sluice`, protocol `sluice-tasks-v1`), JSON in UTF-8:
 * - member metadata (JoinGroup): `{"label": "pid@host", "owned": [tasks], "tasks": n, "producer": "transactional id"}`
 * - assignment (SyncGroup): `{"tasks": [tasks], "members": ["label", ...], "producers": ["transactional id", ...]}`
 *
 * The producers of a generation let the members of the next one fence the transactional id of a
 * member that is gone (dead, or a zombie): its open transaction is aborted at once instead of
 * holding read_committed readers back until Kafka's transaction timeout.
 */
import { ConnectionPool, heartbeatV4, joinGroupV9, leaveGroupV5, syncGroupV5 } from '@platformatic/kafka';
import { hostname } from 'node:os';
import { SluiceError } from '../../core/index.ts';
import type { KafkaBackend } from './backend.ts';
import { kafkaError, kafkaErrorName } from './errors.ts';

const PROTOCOL_TYPE = 'sluice';
const PROTOCOL = 'sluice-tasks-v1';

export interface GroupOptions {
  /** The number of tasks (partitions of every co-partitioned topic). */
  tasks: number;
  /** A member silent this long is dropped by the coordinator (the broker allows 6 s to 5 min by default). */
  sessionTimeoutMs?: number;
  /** How long a rebalance waits for every member to rejoin (a member finishes its round and commits first). */
  rebalanceTimeoutMs?: number;
  /** This process as other members see it (default `pid@host`). */
  label?: string;
  /** The transactional id of this process's producer (told to the other members). */
  producer?: string;
}

/** One generation of the group as this member sees it. */
export interface Generation {
  generationId: number;
  memberId: string;
  /** The tasks this member runs in this generation, ascending. */
  tasks: number[];
  /** Every member of the generation (their labels), this one included. */
  members: string[];
  /** The transactional ids of the members' producers. */
  producers: string[];
}

interface Metadata {
  label: string;
  owned: number[];
  tasks: number;
  producer: string;
}

export class KafkaGroupMember {
  readonly group: string;
  readonly label: string;
  readonly #producer: string;
  readonly #backend: KafkaBackend;
  readonly #tasks: number;
  readonly #sessionTimeoutMs: number;
  readonly #rebalanceTimeoutMs: number;
  readonly #pool: ConnectionPool;
  readonly #beats: ConnectionPool;
  #memberId = '';
  #generation: Generation | undefined;
  #owned: number[] = [];
  #heartbeat: NodeJS.Timeout | undefined;
  #onChange: (() => void) | undefined;
  #changed = false;
  #closed = false;

  constructor(backend: KafkaBackend, group: string, options: GroupOptions) {
    this.#backend = backend;
    this.group = group;
    this.#tasks = options.tasks;
    this.#sessionTimeoutMs = options.sessionTimeoutMs ?? 10_000;
    this.#rebalanceTimeoutMs = options.rebalanceTimeoutMs ?? 30_000;
    this.label = options.label ?? `${process.pid}@${hostname()}`;
    this.#producer = options.producer ?? '';
    const clientId = backend.config.clientId ?? 'sluice';
    this.#pool = new ConnectionPool(clientId);
    // Heartbeats on a connection of their own: a broker answers one request per connection at a time.
    this.#beats = new ConnectionPool(clientId);
  }

  /** The generation joined last (undefined before the first join and after a change). */
  get generation(): Generation | undefined {
    return this.#changed ? undefined : this.#generation;
  }

  /** For transactional offset commits: the generation and member id, while the membership holds. */
  membership(group: string): { generationId: number; memberId: string } | undefined {
    const g = this.#generation;
    return group === this.group && g !== undefined ? { generationId: g.generationId, memberId: g.memberId } : undefined;
  }

  /** Calls `listener` once the current generation ends (a member joined or left, or this one was dropped). */
  onChange(listener: () => void): void {
    this.#onChange = listener;
    if (this.#changed) listener();
  }

  /**
   * Joins (or rejoins) the group and returns this member's tasks in the new generation. Call it
   * again after a change, once the tasks of the old generation are committed and dropped.
   */
  async join(): Promise<Generation> {
    this.#stopHeartbeat();
    for (let attempt = 0; ; attempt++) {
      if (this.#closed) throw new SluiceError('LOG_CLOSED', `left group '${this.group}'`);
      try {
        const generation = await this.#joinOnce();
        this.#generation = generation;
        this.#owned = generation.tasks;
        this.#changed = false;
        this.#startHeartbeat();
        return generation;
      } catch (error) {
        const name = kafkaErrorName(error);
        if (attempt >= 20) throw kafkaError(error, `joining group '${this.group}'`);
        if (name === 'UNKNOWN_MEMBER_ID' || name === 'FENCED_INSTANCE_ID') this.#memberId = '';
        if (name === 'NOT_COORDINATOR' || name === 'COORDINATOR_NOT_AVAILABLE') this.#backend.forgetCoordinator(this.group);
        // A rebalance started meanwhile (REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION): join again.
        if (name === undefined && !(error instanceof Error && /connect|closed|timeout/i.test(error.message))) throw kafkaError(error, `joining group '${this.group}'`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(500, 20 * (attempt + 1))));
      }
    }
  }

  async #joinOnce(): Promise<Generation> {
    const broker = await this.#backend.groupCoordinator(this.group);
    const connection = await this.#pool.get(broker);
    const metadata: Metadata = { label: this.label, owned: this.#owned, tasks: this.#tasks, producer: this.#producer };
    const protocols = [{ name: PROTOCOL, metadata: Buffer.from(JSON.stringify(metadata)) }];
    let joined: Awaited<ReturnType<typeof joinGroupV9.api.async>>;
    try {
      joined = await joinGroupV9.api.async(connection, this.group, this.#sessionTimeoutMs, this.#rebalanceTimeoutMs, this.#memberId, null, PROTOCOL_TYPE, protocols, null);
    } catch (error) {
      // KIP-394: the first join gets a member id to join with.
      const response = (error as { response?: { memberId?: string } }).response;
      if (kafkaErrorName(error) !== 'MEMBER_ID_REQUIRED' || !response?.memberId) throw error;
      this.#memberId = response.memberId;
      joined = await joinGroupV9.api.async(connection, this.group, this.#sessionTimeoutMs, this.#rebalanceTimeoutMs, this.#memberId, null, PROTOCOL_TYPE, protocols, null);
    }
    this.#memberId = joined.memberId;
    const members = joined.members.map((m) => ({ memberId: m.memberId, metadata: parseMetadata(m.metadata) }));
    const assignments = joined.leader === joined.memberId ? assign(members, this.#tasks) : [];
    const synced = await syncGroupV5.api.async(connection, this.group, joined.generationId, joined.memberId, null, PROTOCOL_TYPE, PROTOCOL, assignments.map((a) => ({ memberId: a.memberId, assignment: Buffer.from(JSON.stringify({ tasks: a.tasks, members: a.members, producers: a.producers })) })));
    const assignment = synced.assignment.length === 0 ? { tasks: [], members: [], producers: [] } : (JSON.parse(synced.assignment.toString('utf8')) as { tasks: number[]; members: string[]; producers?: string[] });
    return { generationId: joined.generationId, memberId: joined.memberId, tasks: assignment.tasks, members: assignment.members, producers: assignment.producers ?? [] };
  }

  #startHeartbeat(): void {
    const interval = Math.max(200, Math.floor(this.#sessionTimeoutMs / 5));
    const beat = async (): Promise<void> => {
      const g = this.#generation;
      if (g === undefined || this.#closed || this.#changed) return;
      try {
        const broker = await this.#backend.groupCoordinator(this.group);
        await heartbeatV4.api.async(await this.#beats.get(broker), this.group, g.generationId, g.memberId, null);
      } catch (error) {
        const name = kafkaErrorName(error);
        if (name === 'REBALANCE_IN_PROGRESS' || name === 'ILLEGAL_GENERATION' || name === 'UNKNOWN_MEMBER_ID' || name === 'FENCED_INSTANCE_ID') {
          if (name === 'UNKNOWN_MEMBER_ID') this.#memberId = '';
          this.#change();
          return;
        }
        if (name === 'NOT_COORDINATOR' || name === 'COORDINATOR_NOT_AVAILABLE') this.#backend.forgetCoordinator(this.group);
        // Other failures (a broker restarting): try again at the next beat; the session timeout decides.
      }
      if (!this.#closed && !this.#changed) this.#heartbeat = setTimeout(() => void beat(), interval);
    };
    this.#heartbeat = setTimeout(() => void beat(), interval);
    this.#heartbeat.unref();
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearTimeout(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #change(): void {
    if (this.#changed) return;
    this.#changed = true;
    this.#stopHeartbeat();
    this.#onChange?.();
  }

  /** Leaves the group at once (the others rebalance without waiting for the session timeout). */
  async leave(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopHeartbeat();
    try {
      if (this.#memberId !== '') {
        const broker = await this.#backend.groupCoordinator(this.group);
        await leaveGroupV5.api.async(await this.#pool.get(broker), this.group, [{ memberId: this.#memberId, groupInstanceId: null, reason: 'sluice run ended' }]);
      }
    } catch {
      // Leaving is a courtesy: the session timeout drops the member anyway.
    } finally {
      await this.#pool.close().catch(() => undefined);
      await this.#beats.close().catch(() => undefined);
    }
  }
}

function parseMetadata(bytes: Buffer): Metadata {
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as Partial<Metadata>;
    return { label: String(parsed.label ?? '?'), owned: Array.isArray(parsed.owned) ? parsed.owned.filter((t) => Number.isInteger(t)) : [], tasks: Number(parsed.tasks ?? 0), producer: String(parsed.producer ?? '') };
  } catch {
    return { label: '?', owned: [], tasks: 0, producer: '' };
  }
}

/**
 * The leader's assignment: tasks 0..n-1 over the members, as even as possible (each gets
 * floor(n/m) or ceil(n/m)), sticky: a member keeps the tasks it owned up to its quota. Members
 * are taken in member-id order, so every leader computes the same assignment from the same input.
 */
export function assign(members: { memberId: string; metadata: Metadata }[], tasks: number): { memberId: string; tasks: number[]; members: string[]; producers: string[] }[] {
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const m = sorted.length;
  const quota = sorted.map((_, i) => Math.floor(tasks / m) + (i < tasks % m ? 1 : 0));
  const owner = new Array<number>(tasks).fill(-1);
  const given: number[][] = sorted.map(() => []);
  sorted.forEach((member, i) => {
    for (const t of member.metadata.owned) {
      if (t >= 0 && t < tasks && owner[t] === -1 && given[i].length < quota[i]) {
        owner[t] = i;
        given[i].push(t);
      }
    }
  });
  for (let t = 0; t < tasks; t++) {
    if (owner[t] !== -1) continue;
    const i = given.findIndex((list, k) => list.length < quota[k]);
    owner[t] = i;
    given[i].push(t);
  }
  const labels = sorted.map((member) => member.metadata.label);
  const producers = sorted.map((member) => member.metadata.producer).filter((p) => p !== '');
  return sorted.map((member, i) => ({ memberId: member.memberId, tasks: given[i].sort((a, b) => a - b), members: labels, producers }));
}
