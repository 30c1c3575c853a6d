/**
 * The commit step: a round's output and the source offsets it consumed become durable
 * together. With a transactional writer (exactly-once) both go into one log transaction, so
 * read_committed readers see the output exactly when the offsets move; otherwise output is
 * written first (at-least-once) or offsets first (at-most-once).
 */
import type { BackendWriter, LogBackend, OutgoingRecord, TopicPartitionOffset } from '../backend/index.ts';
import type { Guarantee } from '../api/index.ts';

export interface CommitStep {
  /** Writes `output` and commits `offsets` for the app's consumer group. */
  commit(output: Map<string, OutgoingRecord[]>, offsets: TopicPartitionOffset[]): Promise<void>;
  close(): Promise<void>;
}

class TransactionalCommit implements CommitStep {
  readonly #writer: BackendWriter;
  readonly #group: string;

  constructor(writer: BackendWriter, group: string) {
    this.#writer = writer;
    this.#group = group;
  }

  async commit(output: Map<string, OutgoingRecord[]>, offsets: TopicPartitionOffset[]): Promise<void> {
    if (output.size === 0 && offsets.length === 0) return;
    await this.#writer.beginTransaction();
    try {
      for (const [topic, records] of output) await this.#writer.send(topic, records);
      if (offsets.length > 0) await this.#writer.sendOffsetsToTransaction(this.#group, offsets);
      await this.#writer.commitTransaction();
    } catch (error) {
      await this.#writer.abortTransaction().catch(() => undefined);
      throw error;
    }
  }

  close(): Promise<void> {
    return this.#writer.close();
  }
}

class PlainCommit implements CommitStep {
  readonly #backend: LogBackend;
  readonly #writer: BackendWriter;
  readonly #group: string;
  readonly #offsetsFirst: boolean;

  constructor(backend: LogBackend, writer: BackendWriter, group: string, offsetsFirst: boolean) {
    this.#backend = backend;
    this.#writer = writer;
    this.#group = group;
    this.#offsetsFirst = offsetsFirst;
  }

  async commit(output: Map<string, OutgoingRecord[]>, offsets: TopicPartitionOffset[]): Promise<void> {
    if (this.#offsetsFirst && offsets.length > 0) await this.#backend.commitOffsets(this.#group, offsets);
    for (const [topic, records] of output) await this.#writer.send(topic, records);
    if (!this.#offsetsFirst && offsets.length > 0) await this.#backend.commitOffsets(this.#group, offsets);
  }

  close(): Promise<void> {
    return this.#writer.close();
  }
}

/** The commit step for a guarantee: exactly-once uses a transactional writer named after the app. */
export async function openCommitStep(backend: LogBackend, group: string, guarantee: Guarantee): Promise<CommitStep> {
  if (guarantee === 'exactly-once') {
    return new TransactionalCommit(await backend.openWriter({ transactionalId: group }), group);
  }
  return new PlainCommit(backend, await backend.openWriter(), group, guarantee === 'at-most-once');
}
