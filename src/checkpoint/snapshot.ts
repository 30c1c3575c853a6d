/**
 * The job snapshot: what a checkpoint holds besides the state backend's own tables — each
 * task's operator snapshots, each source partition's watermark generator and next offset, the
 * watermarks leaving each task — and its JSON encoding (infinities as core's marked strings).
 */
import { fromUtf8, parseWithInfinities, SluiceError, stringifyWithInfinities, utf8 } from '../core/index.ts';

/** One task's state: each operator's snapshot (null: none, or kept by a durable table) and forwarded watermark. */
export interface TaskSnapshot {
  ops: unknown[];
  watermarks: number[];
}

export interface JobSnapshot {
  version: 1;
  /** Increases by one per checkpoint of the app. */
  id: number;
  /** With the lmdb backend and exactly-once: the prepared log transaction this checkpoint completes. */
  txn?: string | null;
  /**
   * Taken at the end of a bounded run, after every window fired at watermark +Infinity. A later
   * run resumes from the committed offsets with its watermarks and windows empty (the old
   * watermarks would make every new record late), and keeps only the operators that implement
   * `restoreEnded` (tables, running aggregates, joins): runtime/restore.ts `endedRestore`.
   */
  final: boolean;
  /** Per stage, its operators' names: a restore into a changed pipeline is refused. */
  shape: string[][];
  /** Savepoints: the scopes of the durable tables they hold. */
  tableScopes?: string[];
  /** Per stage, each operator's state shape (see compatibility.ts), for savepoint restores. */
  stateShapes?: (string | null)[][];
  tasks: TaskSnapshot[][];
  /** Per source stage and partition: the next offset and the watermark generator's state. */
  sources: Array<Array<{ offset: number; generator: { maxSeen: number; ended: boolean }; position?: unknown }>>;
  /** Per stage and task, the watermark it last forwarded through its exchanges. */
  leaving: number[][];
  /** Write-ahead sinks (`Sink.writeAhead`): this checkpoint's records per sink, handed back on recovery. */
  sinks?: Record<string, unknown[]>;
}

export function encodeSnapshot(snapshot: JobSnapshot): Uint8Array {
  return utf8(stringifyWithInfinities(snapshot));
}

export function decodeSnapshot(bytes: Uint8Array): JobSnapshot {
  return parseWithInfinities(fromUtf8(bytes)) as JobSnapshot;
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
          `the checkpoint of '${app}' was taken by a different pipeline: stage ${stage} had operator '${before[i] ?? '(none)'}' where it now has '${now[i] ?? '(none)'}'; restore needs the same operators: start from a savepoint (it matches state by operator name), or reset the app (sluice app reset ${app}) to process its input again without state`,
        );
      }
    }
  }
}
