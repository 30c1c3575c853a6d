/**
 * Checkpoints of the memory state backend: every commit writes the whole job snapshot as one
 * record to the compacted topic `<app>.checkpoints`, in the same step as the round's output and
 * consumed offsets (for exactly-once, in the same log transaction). Records alternate between
 * two keys, so compaction keeps the last two checkpoints: when the last one cannot be read,
 * recovery falls back to the one before it, with a warning that the output committed after it
 * may be written again.
 *
 * Limit: the state is written whole at every commit; use the lmdb backend for large state.
 */
import type { LogBackend, OutgoingRecord, TopicPartitionOffset } from '../backend/index.ts';
import { SluiceError, utf8 } from '../core/index.ts';
import type { CommitStep } from './commit.ts';
import { decodeSnapshot, encodeSnapshot, type JobSnapshot } from './snapshot.ts';
import type { CheckpointStore } from './store.ts';

export function checkpointTopic(app: string): string {
  return `${app}.checkpoints`;
}

export class TopicCheckpoints implements CheckpointStore {
  readonly #backend: LogBackend;
  readonly #app: string;
  readonly #commit: CommitStep;
  readonly #warn: (message: string) => void;

  constructor(backend: LogBackend, app: string, commit: CommitStep, warn: (message: string) => void) {
    this.#backend = backend;
    this.#app = app;
    this.#commit = commit;
    this.#warn = warn;
  }

  async load(): Promise<JobSnapshot | undefined> {
    const topic = checkpointTopic(this.#app);
    await this.#backend.ensureTopic(topic, 1, { compact: true });
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

  async commit(output: Map<string, OutgoingRecord[]>, offsets: TopicPartitionOffset[], snapshot: JobSnapshot, now: number): Promise<void> {
    output.set(checkpointTopic(this.#app), [{ key: utf8(`${this.#app}#${snapshot.id % 2}`), value: encodeSnapshot(snapshot), timestamp: now, partition: 0 }]);
    await this.#commit.commit(output, offsets);
  }

  send(output: Map<string, OutgoingRecord[]>): Promise<void> {
    return this.#commit.commit(output, []);
  }

  close(): Promise<void> {
    return this.#commit.close();
  }
}
