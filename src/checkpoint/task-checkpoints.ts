/**
 * Checkpoints per task (scale-out on Kafka): the state travels with its task from process to
 * process. The compacted topic `<app>.checkpoints` has one partition per task; each commit writes,
 * for every task the process runs, that task's slice of the job snapshot (its operators'
 * snapshots, its source positions and watermark generators, its leaving watermarks) to the
 * task's partition under the key `task-<p>`, in the same transaction as the output and the
 * consumed offsets. A process that is assigned a task reads the last record of its partition.
 *
 * A task's record is consistent with the group's committed offsets (one transaction wrote both);
 * when the record read is behind them, the commit's markers are still being written: it is read
 * again, for a bounded time. A final record (a bounded run's end) restores as a clean slate.
 */
import type { LogBackend } from '../backend/index.ts';
import { SluiceError, utf8 } from '../core/index.ts';
import type { CheckpointWrite, StatePersistence } from './coordinator.ts';
import { decodeSnapshot, encodeSnapshot, type JobSnapshot } from './snapshot.ts';
import { checkpointTopic } from './topic-checkpoints.ts';

/**
 * How long a record behind the committed offsets is read again before the restore gives up
 * waiting: past Kafka's transaction timeout (60 s), which bounds how long a transaction of a
 * process that died unfenced holds the partition's stable end back.
 */
const CATCH_UP_MS = 75_000;

/** One task's slice of the job snapshot (same layout as JobSnapshot, one entry per stage). */
export interface TaskRecord {
  version: 1;
  task: number;
  id: number;
  final: boolean;
  shape: string[][];
  tasks: JobSnapshot['tasks'][number][number][];
  sources: (JobSnapshot['sources'][number][number] | null)[];
  leaving: number[];
  /** The transactional id of the process that wrote it. */
  producer?: string;
}

export interface TaskCheckpointsOptions {
  backend: LogBackend;
  app: string;
  /** Tasks (partitions of the checkpoint topic). */
  tasks: number;
  /** The tasks this process runs. */
  assigned: ReadonlySet<number>;
  /** The job's state before any restore: unassigned tasks keep it. */
  blank: () => JobSnapshot;
  warn: (message: string) => void;
  /** This process's transactional id (recorded with each checkpoint, for diagnosis). */
  producer?: string;
  /** Whether the restore should stop waiting (the group rebalanced meanwhile): it fails with ILLEGAL_GENERATION. */
  abandoned?: () => boolean;
}

export class TaskCheckpoints implements StatePersistence {
  readonly twoPhase = false;
  readonly #options: TaskCheckpointsOptions;

  constructor(options: TaskCheckpointsOptions) {
    this.#options = options;
  }

  /** Creates the checkpoint topic (one partition per task, compacted); refuses one with another partition count. */
  static async ensureTopic(backend: LogBackend, app: string, tasks: number): Promise<void> {
    const topic = checkpointTopic(app);
    const partitions = await backend.ensureTopic(topic, tasks, { compact: true });
    if (partitions !== tasks) {
      throw new SluiceError(
        'STATE_INCOMPATIBLE',
        `topic '${topic}' has ${partitions} partitions, but app '${app}' runs ${tasks} tasks (one checkpoint partition per task): its checkpoints were taken with another partition count${backend.kind === 'kafka' ? '' : ' or on one thread (parallelism 1; run it so again)'}; reset the app (sluice app reset ${app}${backend.kind === 'kafka' ? ' --kafka HOST:PORT' : ''}) to process its input again`,
      );
    }
  }

  async load(): Promise<JobSnapshot | undefined> {
    const { assigned, blank } = this.#options;
    const snapshot = blank();
    let found = false;
    for (const task of [...assigned].sort((a, b) => a - b)) {
      const record = await this.#caughtUp(task, snapshot);
      if (record === undefined) continue;
      found = true;
      snapshot.id = Math.max(snapshot.id, record.id);
      // A bounded run's last checkpoint fired everything at +Infinity: the task starts empty from its offsets.
      if (record.final) continue;
      snapshot.shape = record.shape;
      record.tasks.forEach((t, stage) => {
        snapshot.tasks[stage][task] = t;
      });
      record.sources.forEach((s, stage) => {
        if (s !== null && snapshot.sources[stage]?.[task] !== undefined) snapshot.sources[stage][task] = s;
      });
      record.leaving.forEach((w, stage) => {
        snapshot.leaving[stage][task] = w;
      });
    }
    return found ? snapshot : undefined;
  }

  /** The task's last record, read again while it is behind the offsets the group committed. */
  async #caughtUp(task: number, blank: JobSnapshot): Promise<TaskRecord | undefined> {
    const deadline = Date.now() + CATCH_UP_MS;
    for (;;) {
      const record = await this.#last(task);
      const behind = blank.sources.some((stage, s) => {
        const committed = stage[task]?.offset;
        const saved = record?.sources[s]?.offset;
        return committed !== undefined && committed > 0 && (saved === undefined || saved < committed);
      });
      if (!behind || record?.final) return record;
      if (this.#options.abandoned?.()) throw new SluiceError('ILLEGAL_GENERATION', `the group of '${this.#options.app}' rebalanced while task ${task} was being restored`);
      if (Date.now() > deadline) {
        this.#options.warn(`the checkpoint of task ${task} of '${this.#options.app}' is behind its committed offsets; restoring it: output committed after it may be written again`);
        return record;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The last readable record of a task's partition (one damaged record falls back to the one before). */
  async #last(task: number): Promise<TaskRecord | undefined> {
    const { backend, app } = this.#options;
    const topic = checkpointTopic(app);
    const start = (await backend.startOffsets(topic))[task];
    const end = (await backend.endOffsets(topic))[task];
    // Each commit adds one record and one transaction marker: the last ones are near the end.
    const found: Uint8Array[] = [];
    for (let from = Math.max(start, end - 16); from < end; ) {
      const { records, nextOffset } = await backend.fetch(topic, task, from, 16);
      for (const record of records) if (record.value !== null) found.push(record.value);
      from = Math.max(nextOffset, from + 1);
    }
    for (let i = found.length - 1; i >= 0; i--) {
      try {
        const record = decodeSnapshot(found[i]) as unknown as TaskRecord;
        if (record.task !== task) continue;
        if (i < found.length - 1) this.#options.warn(`the last checkpoint of task ${task} of '${app}' cannot be read; restoring the one before it: output committed after it may be written again`);
        return record;
      } catch {
        // Try the record before it.
      }
    }
    if (found.length > 0) throw new SluiceError('CHECKPOINT_CORRUPT', `no checkpoint of task ${task} of '${app}' in topic '${topic}' can be read; reset the app to process its input again`);
    return undefined;
  }

  async stage(write: CheckpointWrite): Promise<void> {
    const { snapshot, now } = write;
    const { app, assigned } = this.#options;
    const records = [...assigned].map((task) => {
      const record: TaskRecord = {
        version: 1,
        task,
        id: snapshot.id,
        final: snapshot.final,
        shape: snapshot.shape,
        tasks: snapshot.tasks.map((stage) => stage[task]),
        sources: snapshot.sources.map((stage) => stage[task] ?? null),
        leaving: snapshot.leaving.map((stage) => stage[task]),
        ...(this.#options.producer === undefined ? {} : { producer: this.#options.producer }),
      };
      return { key: utf8(`task-${task}`), value: encodeSnapshot(record as unknown as JobSnapshot), timestamp: now, partition: task };
    });
    await write.send(checkpointTopic(app), records);
  }

  startEmpty(): void {}

  tables(): [string, Iterable<[unknown, unknown]>][] {
    return [];
  }
}
