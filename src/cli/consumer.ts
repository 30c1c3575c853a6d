/**
 * The read loop behind `sluice consume`: resolve where each partition starts, read them in turn,
 * hand each batch of lines to the caller, and when every partition is drained wait for new data
 * on all of them at once (the log wakes us; no polling). With a group, positions are committed
 * periodically and when the loop stops.
 */
import type { Isolation, Log } from '../log/index.ts';
import { recordToJsonLine } from './records.ts';

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
  /** Stop after this many records. */
  max?: number;
  /** Stop when no record came for this long. */
  timeoutMs?: number;
  isolation: Isolation;
  /** Stops the loop (after committing) when aborted. */
  signal: AbortSignal;
  /** How often a following consumer commits its group's positions. */
  commitIntervalMs?: number;
  /** Receives the JSON lines of a batch, newline-terminated; resolves when they are written. */
  output: (lines: string) => Promise<void>;
}

const READ_RECORDS = 1000;
const DEFAULT_COMMIT_INTERVAL_MS = 1000;
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
  const partitions = options.partition === undefined ? [...Array(log.topic(topic).partitions).keys()] : [options.partition];
  const positions = new Map(partitions.map((p) => [p, startOffset(log, options, p)]));
  const committed = new Map(positions);
  const max = options.max ?? Number.POSITIVE_INFINITY;
  const commitInterval = options.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS;
  let printed = 0;
  let lastRecordAt = Date.now();
  let lastCommitAt = Date.now();

  const commit = () => {
    if (options.group === undefined) return;
    const moved = partitions.filter((p) => positions.get(p) !== committed.get(p));
    if (moved.length > 0) {
      log.commitOffsets(
        options.group,
        moved.map((partition) => ({ topic, partition, offset: positions.get(partition)! })),
      );
      for (const p of moved) committed.set(p, positions.get(p)!);
    }
    lastCommitAt = Date.now();
  };

  try {
    while (!signal.aborted && printed < max) {
      let progressed = false;
      for (const partition of partitions) {
        if (printed >= max || signal.aborted) break;
        const from = positions.get(partition)!;
        const remaining = max - printed;
        const { records, nextOffset } = log.read(topic, partition, from, { maxRecords: Math.min(remaining, READ_RECORDS), isolation });
        // A read returns whole batches, so it may hold more than asked: print only what --max allows.
        const taken = records.length > remaining ? records.slice(0, remaining) : records;
        if (taken.length > 0) {
          let lines = '';
          for (const record of taken) lines += `${recordToJsonLine(topic, partition, record)}\n`;
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
      await waitForAny(log, options, partitions, positions, Math.min(waitMs, RECHECK_MS));
    }
  } finally {
    commit();
  }
  return printed;
}

function startOffset(log: Log, options: ConsumeOptions, partition: number): number {
  const { topic, start } = options;
  switch (start.kind) {
    case 'beginning':
      return log.startOffset(topic, partition);
    case 'end':
      return log.endOffset(topic, partition, options.isolation);
    case 'offset':
      return start.offset;
    case 'timestamp':
      return log.offsetForTimestamp(topic, partition, start.timestamp);
    case 'committed': {
      // The earliest offset when the group has none, or when its position is gone: deleted by
      // retention, or past the end because the topic was deleted and created again.
      const first = log.startOffset(topic, partition);
      const offset = options.group === undefined ? undefined : log.committedOffset(options.group, topic, partition);
      const outOfRange = offset === undefined || offset < first || offset > log.endOffset(topic, partition, 'read_uncommitted');
      return outOfRange ? first : offset;
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
