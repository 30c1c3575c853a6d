/**
 * The read loop behind `sluice consume`: resolve where each partition starts, read them in turn,
 * hand each batch of lines to the caller, and when every partition is drained wait for new data
 * on all of them at once (the log wakes us; no polling). With a group, positions are committed
 * periodically and when the loop stops.
 *
 * With a group and no `--partition`, the consumer is a member of the group (see log/groups.ts):
 * the members share the topic's partitions, and partitions move between them as members come
 * and go. With `--partition` it reads just that partition and commits for the group (Kafka's
 * manual assignment).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { isSluiceError, SluiceError } from '../core/index.ts';
import { type GroupAssignment, type Isolation, type Log, partitionKey } from '../log/index.ts';
import { type OutputFormat, recordToJsonLine } from './records.ts';

export type StartAt =
  | { kind: 'end' }
  | { kind: 'beginning' }
  | { kind: 'committed' }
  | { kind: 'offset'; offset: number }
  | { kind: 'timestamp'; timestamp: number };

export interface ConsumeOptions {
  topic: string;
  /** The partitions to read; all of the topic's when absent. */
  partition?: number;
  start: StartAt;
  group?: string;
  /**
   * Where a group starts on a partition whose committed offset is out of range: past the end
   * (without it, an OFFSET_OUT_OF_RANGE error) or deleted by retention (earliest without it).
   */
  resetOffsets?: 'earliest' | 'latest';
  /** Stop after this many records. */
  max?: number;
  /** Stop when no record came for this long. */
  timeoutMs?: number;
  isolation: Isolation;
  /** How keys and values are printed (default json). */
  format?: OutputFormat;
  /** Stops the loop (after committing) when aborted. */
  signal: AbortSignal;
  /** How often a following consumer commits its group's positions. */
  commitIntervalMs?: number;
  /** A group member that stops heartbeating for this long loses its partitions (default 10 s). */
  sessionTimeoutMs?: number;
  /** Where notices go (a partition moved, the member rejoined). */
  warn?: (message: string) => void;
  /** Receives the JSON lines of a batch, newline-terminated; resolves when they are written. */
  output: (lines: string) => Promise<void>;
}

const READ_RECORDS = 1000;
const DEFAULT_COMMIT_INTERVAL_MS = 1000;
/** How often a group member renews its session and picks up partitions that moved to it. */
const HEARTBEAT_MS = 300;
/**
 * The longest single wait before reading again. The log's watcher can miss a wakeup from another
 * process (its file event may arrive before that process's commit is visible), so a follower
 * re-checks at least this often; the wait's timer is also what keeps the process alive while
 * following, since the watcher does not hold the event loop open.
 */
const RECHECK_MS = 500;

/** Runs until `max`, `timeoutMs` or the signal stops it; returns how many records it printed. */
export async function consume(log: Log, options: ConsumeOptions): Promise<number> {
  const { topic, isolation, signal } = options;
  const positions = new Map<number, number>();
  const committed = new Map<number, number>();
  const take = (partition: number) => {
    const offset = startOffset(log, options, partition);
    positions.set(partition, offset);
    committed.set(partition, options.group === undefined ? offset : (log.committedOffset(options.group, topic, partition) ?? -1));
  };
  const member = options.group !== undefined && options.partition === undefined ? new Membership(log, options) : undefined;
  if (member === undefined) {
    for (const p of options.partition === undefined ? [...Array(log.topic(topic).partitions).keys()] : [options.partition]) take(p);
  } else {
    member.apply(member.join(), positions, committed, take);
  }
  const max = options.max ?? Number.POSITIVE_INFINITY;
  const commitInterval = options.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS;
  let printed = 0;
  let lastRecordAt = Date.now();
  let lastCommitAt = Date.now();
  let lastHeartbeatAt = Date.now();

  const commit = () => {
    if (options.group === undefined) return;
    const moved = [...positions.keys()].filter((p) => positions.get(p) !== committed.get(p));
    if (moved.length > 0) {
      const offsets = moved.map((partition) => ({ topic, partition, offset: positions.get(partition)! }));
      if (member === undefined) log.commitOffsets(options.group, offsets);
      else if (!member.commit(offsets)) return member.apply(member.join(), positions, committed, take);
      for (const p of moved) committed.set(p, positions.get(p)!);
    }
    lastCommitAt = Date.now();
  };

  try {
    while (!signal.aborted && printed < max) {
      if (member !== undefined && Date.now() - lastHeartbeatAt >= HEARTBEAT_MS) {
        member.apply(member.heartbeat(positions), positions, committed, take);
        lastHeartbeatAt = Date.now();
      }
      let progressed = false;
      for (const partition of positions.keys()) {
        if (printed >= max || signal.aborted) break;
        const from = positions.get(partition)!;
        const remaining = max - printed;
        const { records, nextOffset } = log.read(topic, partition, from, { maxRecords: Math.min(remaining, READ_RECORDS), isolation });
        // A read returns whole batches, so it may hold more than asked: print only what --max allows.
        const taken = records.length > remaining ? records.slice(0, remaining) : records;
        if (taken.length > 0) {
          let lines = '';
          for (const record of taken) lines += `${recordToJsonLine(topic, partition, record, options.format)}\n`;
          await options.output(lines);
          printed += taken.length;
          lastRecordAt = Date.now();
        }
        const next = taken.length < records.length ? taken[taken.length - 1].offset + 1 : nextOffset;
        if (next !== from) {
          positions.set(partition, next);
          progressed = true;
        }
      }
      if (Date.now() - lastCommitAt >= commitInterval) commit();
      if (progressed || printed >= max || signal.aborted) continue;
      const waitMs = options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : lastRecordAt + options.timeoutMs - Date.now();
      if (waitMs <= 0) break;
      commit(); // idle: a good moment to make the group's position durable
      // A member must heartbeat on time even when its partitions are quiet (or it owns none yet).
      const wait = Math.min(waitMs, member === undefined ? RECHECK_MS : HEARTBEAT_MS);
      if (positions.size === 0) await delay(wait, undefined, { signal }).catch(() => undefined);
      else await waitForAny(log, options, [...positions.keys()], positions, wait);
    }
  } finally {
    if (member === undefined) commit();
    else member.leave(positions);
  }
  return printed;
}

/** This consumer as a member of its group: join, heartbeat, commit as owner, leave. */
class Membership {
  readonly #log: Log;
  readonly #options: ConsumeOptions;
  readonly #group: string;
  #memberId = '';

  constructor(log: Log, options: ConsumeOptions) {
    this.#log = log;
    this.#options = options;
    this.#group = options.group!;
  }

  join(): GroupAssignment {
    const assignment = this.#log.joinGroup(this.#group, [this.#options.topic], this.#options.sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs: this.#options.sessionTimeoutMs });
    this.#memberId = assignment.memberId;
    return assignment;
  }

  /** Renews the session, handing over what moved; a member the group dropped rejoins. */
  heartbeat(positions: ReadonlyMap<number, number>): GroupAssignment {
    try {
      return this.#log.groupHeartbeat(this.#group, this.#memberId, this.#keyed(positions));
    } catch (error) {
      if (!isSluiceError(error, 'ILLEGAL_GENERATION')) throw error;
      this.#options.warn?.(`group '${this.#group}': this member's session ran out; rejoining (records since its last commit may be read again)`);
      return this.join();
    }
  }

  /** Commits as the owner; false when the group moved on without this member (it must rejoin). */
  commit(offsets: { topic: string; partition: number; offset: number }[]): boolean {
    try {
      this.#log.commitMemberOffsets(this.#group, this.#memberId, offsets);
      return true;
    } catch (error) {
      if (!isSluiceError(error, 'ILLEGAL_GENERATION')) throw error;
      this.#options.warn?.(`group '${this.#group}': a commit was refused (${error.message}); rejoining`);
      return false;
    }
  }

  leave(positions: ReadonlyMap<number, number>): void {
    this.#log.leaveGroup(this.#group, this.#memberId, this.#keyed(positions));
  }

  /** Makes `positions` match the partitions the assignment owns: dropped ones go, new ones start at the group's offset. */
  apply(assignment: GroupAssignment, positions: Map<number, number>, committed: Map<number, number>, take: (partition: number) => void): void {
    const owned = new Set(assignment.owned.filter((tp) => tp.topic === this.#options.topic).map((tp) => tp.partition));
    for (const p of [...positions.keys()]) {
      if (owned.has(p)) continue;
      positions.delete(p);
      committed.delete(p);
    }
    for (const p of owned) if (!positions.has(p)) take(p);
  }

  #keyed(positions: ReadonlyMap<number, number>): Map<string, number> {
    return new Map([...positions].map(([p, offset]) => [partitionKey(this.#options.topic, p), offset]));
  }
}

function startOffset(log: Log, options: ConsumeOptions, partition: number): number {
  const { topic, start } = options;
  switch (start.kind) {
    case 'beginning':
      return log.startOffset(topic, partition);
    case 'end':
      return log.endOffset(topic, partition, options.isolation);
    case 'offset': {
      const end = log.endOffset(topic, partition, 'read_uncommitted');
      if (start.offset > end) {
        throw new SluiceError(
          'OFFSET_OUT_OF_RANGE',
          `--offset ${start.offset} is past the end of ${topic}/${partition}: its next offset is ${end}; give an offset up to ${end}, or --from-beginning`,
        );
      }
      return start.offset;
    }
    case 'timestamp':
      return log.offsetForTimestamp(topic, partition, start.timestamp);
    case 'committed': {
      const first = log.startOffset(topic, partition);
      const end = log.endOffset(topic, partition, 'read_uncommitted');
      const offset = options.group === undefined ? undefined : log.committedOffset(options.group, topic, partition);
      if (offset === undefined) return first;
      if (offset > end) {
        // The group read records the partition no longer has (a topic deleted and created again, or data lost):
        // starting anywhere silently would skip or repeat records, so the user chooses.
        if (options.resetOffsets === undefined) {
          throw new SluiceError(
            'OFFSET_OUT_OF_RANGE',
            `group '${options.group}' committed offset ${offset} on ${topic}/${partition}, past its end (next offset ${end}); start it again with \`sluice consume ${topic} --group ${options.group} --reset-offsets earliest\` (or latest)`,
          );
        }
        return options.resetOffsets === 'earliest' ? first : end;
      }
      // Deleted by retention: from the earliest record left, unless told latest.
      if (offset < first) return options.resetOffsets === 'latest' ? end : first;
      return offset;
    }
  }
}

/** Resolves when any partition has data past its position, after `timeoutMs`, or on abort. */
async function waitForAny(
  log: Log,
  options: ConsumeOptions,
  partitions: readonly number[],
  positions: ReadonlyMap<number, number>,
  timeoutMs: number,
): Promise<void> {
  const done = new AbortController();
  const stop = () => done.abort();
  options.signal.addEventListener('abort', stop, { once: true });
  try {
    await Promise.race(
      partitions.map((p) => log.waitForData(options.topic, p, positions.get(p)!, timeoutMs, { isolation: options.isolation, signal: done.signal })),
    );
  } finally {
    done.abort();
    options.signal.removeEventListener('abort', stop);
  }
}
