/**
 * Checkpoints of the memory state backend: every commit writes the whole job snapshot as one
 * record to the compacted topic `<app>.checkpoints`, at the coordinator's `state` step (for
 * exactly-once, in the same log transaction as the round's output and consumed offsets). Records alternate between
 * two keys, so compaction keeps the last two checkpoints: when the last one cannot be read,
 * recovery falls back to the one before it, with a warning that the output committed after it
 * may be written again.
 *
 * Limit: the state is written whole at every commit; use the lmdb backend for large state.
 */
import type { LogBackend } from '../backend/index.ts';
import { SluiceError, utf8 } from '../core/index.ts';
import type { CheckpointWrite, StatePersistence } from './coordinator.ts';
import { decodeSnapshot, encodeSnapshot, type JobSnapshot } from './snapshot.ts';

export function checkpointTopic(app: string): string {
  return `${app}.checkpoints`;
}

export class TopicCheckpoints implements StatePersistence {
  readonly twoPhase = false;
  readonly #backend: LogBackend;
  readonly #app: string;
  readonly #warn: (message: string) => void;

  constructor(backend: LogBackend, app: string, warn: (message: string) => void) {
    this.#backend = backend;
    this.#app = app;
    this.#warn = warn;
  }

  async load(): Promise<JobSnapshot | undefined> {
    const topic = checkpointTopic(this.#app);
    const partitions = await this.#backend.ensureTopic(topic, 1, { compact: true });
    if (partitions > 1) {
      throw new SluiceError(
        'STATE_INCOMPATIBLE',
        `app '${this.#app}' was checkpointed per task (topic '${topic}' has ${partitions} partitions): it ran with parallelism above 1; run it so again (sluice run FILE --parallelism 2), or reset it (sluice app reset ${this.#app}) to process its input again`,
      );
    }
    const [start] = await this.#backend.startOffsets(topic);
    const [end] = await this.#backend.endOffsets(topic);
    // Each commit adds one record and (transactional) one marker: the last two are near the end.
    // Read them one by one, so one damaged record does not hide the one before it.
    const found: { offset: number; value?: Uint8Array; error?: unknown }[] = [];
    for (let from = Math.max(start, end - 32); from < end; ) {
      let next = from + 1;
      try {
        const { records, nextOffset } = await this.#backend.fetch(topic, 0, from, 1);
        next = Math.max(nextOffset, from + 1);
        for (const record of records) found.push({ offset: record.offset, value: record.value ?? new Uint8Array() });
      } catch (error) {
        found.push({ offset: from, error });
      }
      from = next;
    }
    for (let i = found.length - 1; i >= 0; i--) {
      try {
        if (found[i].value === undefined) throw found[i].error;
        const snapshot = decodeSnapshot(found[i].value!);
        if (i < found.length - 1) {
          this.#warn(`the last checkpoint of '${this.#app}' (topic '${topic}', offset ${found[found.length - 1].offset}) cannot be read; restoring the one before it (offset ${found[i].offset}): output committed after it may be written again`);
        }
        return snapshot;
      } catch (cause) {
        if (i === 0) {
          throw new SluiceError('CHECKPOINT_CORRUPT', `no checkpoint of '${this.#app}' in topic '${topic}' can be read; delete the topic's data to start from the committed offsets without state`, { cause });
        }
      }
    }
    return undefined;
  }

  async stage(write: CheckpointWrite): Promise<void> {
    const { snapshot, now } = write;
    await write.send(checkpointTopic(this.#app), [{ key: utf8(`${this.#app}#${snapshot.id % 2}`), value: encodeSnapshot(snapshot), timestamp: now, partition: 0 }]);
  }

  /** Heap state starts empty by itself; the last record stays (a later start reads it). */
  startEmpty(): void {}

  tables(): [string, Iterable<[unknown, unknown]>][] {
    return [];
  }
}
