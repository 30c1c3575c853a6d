/**
 * Operator state in checkpoints. Every commit writes the whole job's state — each task's
 * operator snapshots, each source partition's watermark generator and next offset — as one
 * record to the compacted topic `<app>.checkpoints`, in the same step (for exactly-once, the
 * same log transaction) as the round's output and the consumed offsets. A restarted job reads
 * the last such record and resumes exactly where the committed output left off.
 *
 * Limits: the state is written whole at every commit, so it suits state of megabytes, not
 * gigabytes (an incremental, larger-than-memory backend is the next step).
 */
import type { LogBackend } from '../backend/index.ts';
import { fromUtf8, SluiceError, utf8 } from '../core/index.ts';
import type { TaskSnapshot } from './task.ts';

export interface JobSnapshot {
  version: 1;
  /**
   * Taken at the end of a bounded run, after every window fired at watermark +Infinity. A later
   * run does not restore it (its watermarks would make every new record late); it resumes from
   * the committed offsets, as a new batch job over the data that arrived since.
   */
  final: boolean;
  /** Per stage, its operators' names: a restore into a changed pipeline is refused. */
  shape: string[][];
  tasks: TaskSnapshot[][];
  /** Per source stage and partition: the next offset and the watermark generator's state. */
  sources: Array<Array<{ offset: number; generator: { maxSeen: number; ended: boolean } }>>;
  /** Per stage and task, the watermark it last forwarded through its exchanges. */
  leaving: number[][];
}

export function checkpointTopic(app: string): string {
  return `${app}.checkpoints`;
}

// JSON has no infinities (watermarks start at -Infinity): write them as marked strings.
const POS_INF = '\u0000+inf';
const NEG_INF = '\u0000-inf';

export function encodeSnapshot(snapshot: JobSnapshot): Uint8Array {
  return utf8(
    JSON.stringify(snapshot, (_key, value) => {
      if (value === Number.POSITIVE_INFINITY) return POS_INF;
      if (value === Number.NEGATIVE_INFINITY) return NEG_INF;
      return value;
    }),
  );
}

export function decodeSnapshot(bytes: Uint8Array): JobSnapshot {
  return JSON.parse(fromUtf8(bytes), (_key, value) => {
    if (value === POS_INF) return Number.POSITIVE_INFINITY;
    if (value === NEG_INF) return Number.NEGATIVE_INFINITY;
    return value;
  }) as JobSnapshot;
}

/** The last committed snapshot of `app`, if any. */
export async function readLastSnapshot(backend: LogBackend, app: string): Promise<JobSnapshot | undefined> {
  const topic = checkpointTopic(app);
  const [start] = await backend.startOffsets(topic);
  const [end] = await backend.endOffsets(topic);
  // Each commit adds one record and, transactionally, one marker: the last record is near the end.
  let last: Uint8Array | null = null;
  for (let from = Math.max(start, end - 16); from < end; ) {
    const { records, nextOffset } = await backend.fetch(topic, 0, from, 64);
    for (const record of records) last = record.value;
    if (nextOffset <= from) break;
    from = nextOffset;
  }
  if (last === null) return undefined;
  try {
    return decodeSnapshot(last);
  } catch (cause) {
    throw new SluiceError('CHECKPOINT_CORRUPT', `the last checkpoint of '${app}' in topic '${topic}' cannot be read; delete the topic to start from the committed offsets without state`, { cause });
  }
}

/** Refuses a snapshot taken by a pipeline of another shape, naming the first difference. */
export function checkShape(app: string, saved: string[][], current: string[][]): void {
  for (let stage = 0; stage < Math.max(saved.length, current.length); stage++) {
    const before = saved[stage] ?? [];
    const now = current[stage] ?? [];
    for (let i = 0; i < Math.max(before.length, now.length); i++) {
      if (before[i] !== now[i]) {
        throw new SluiceError(
          'STATE_INCOMPATIBLE',
          `the checkpoint of '${app}' was taken by a different pipeline: stage ${stage} had operator '${before[i] ?? '(none)'}' where it now has '${now[i] ?? '(none)'}'; restore needs the same operators, or delete topic '${checkpointTopic(app)}' to start without state`,
        );
      }
    }
  }
}
