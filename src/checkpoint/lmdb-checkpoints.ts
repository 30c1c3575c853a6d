/**
 * Checkpoints of the lmdb state backend, the two-phase protocol of DESIGN section 6:
 *
 *   exactly-once:  begin log txn → output + offsets → prepare (the txn now outlives us)
 *                  → one LMDB transaction: state changes + job snapshot naming the txn
 *                  → commit the log txn
 *   at-least-once: output → LMDB checkpoint → group offsets
 *   at-most-once:  LMDB checkpoint → group offsets → output
 *
 * On start, a prepared transaction left by a crash is committed if the last LMDB checkpoint
 * names it (the state already includes its round) and aborted otherwise (the state does not).
 * Either way output, offsets and state agree. The job snapshot's source offsets are what a
 * restored job reads from, so a crash between the LMDB commit and the group-offset commit
 * repeats nothing.
 */
import type { Guarantee } from '../api/index.ts';
import type { BackendWriter, LogBackend, OutgoingRecord, TopicPartitionOffset } from '../backend/index.ts';
import { SluiceError } from '../core/index.ts';
import type { LmdbStateBackend } from '../state/lmdb-backend.ts';
import { decodeSnapshot, encodeSnapshot, type JobSnapshot } from './snapshot.ts';
import type { CheckpointStore } from './store.ts';

export class LmdbCheckpoints implements CheckpointStore {
  readonly #backend: LogBackend;
  readonly #state: LmdbStateBackend;
  readonly #writer: BackendWriter;
  readonly #group: string;
  readonly #guarantee: Guarantee;

  private constructor(backend: LogBackend, state: LmdbStateBackend, writer: BackendWriter, group: string, guarantee: Guarantee) {
    this.#backend = backend;
    this.#state = state;
    this.#writer = writer;
    this.#group = group;
    this.#guarantee = guarantee;
  }

  static async open(backend: LogBackend, state: LmdbStateBackend, group: string, guarantee: Guarantee): Promise<LmdbCheckpoints> {
    const writer = await backend.openWriter(guarantee === 'exactly-once' ? { transactionalId: group } : {});
    if (guarantee === 'exactly-once' && writer.prepareTransaction === undefined) {
      await writer.close();
      throw new SluiceError('INVALID_ARGUMENT', `state 'lmdb' with exactly-once needs a log with two-phase commit (the embedded log); the ${backend.kind} log has none: use state 'memory' there`);
    }
    return new LmdbCheckpoints(backend, state, writer, group, guarantee);
  }

  async load(): Promise<JobSnapshot | undefined> {
    const bytes = this.#state.lastCheckpoint();
    let snapshot: JobSnapshot | undefined;
    try {
      snapshot = bytes === undefined ? undefined : decodeSnapshot(bytes);
    } catch (cause) {
      throw new SluiceError('CHECKPOINT_CORRUPT', `the checkpoint record in '${this.#state.dir}' cannot be decoded; remove the directory to start from the committed offsets without state, or start from a savepoint`, { cause });
    }
    const pending = this.#writer.pendingPrepared;
    if (pending !== undefined) await this.#writer.completePrepared!(snapshot?.txn === pending);
    return snapshot;
  }

  async commit(output: Map<string, OutgoingRecord[]>, offsets: TopicPartitionOffset[], snapshot: JobSnapshot): Promise<void> {
    switch (this.#guarantee) {
      case 'exactly-once': {
        const writer = this.#writer;
        await writer.beginTransaction();
        try {
          for (const [topic, records] of output) await writer.send(topic, records);
          if (offsets.length > 0) await writer.sendOffsetsToTransaction(this.#group, offsets);
          snapshot.txn = await writer.prepareTransaction!();
        } catch (error) {
          await writer.abortTransaction().catch(() => undefined);
          throw error;
        }
        // A failure from here on leaves the transaction prepared: the next start settles it.
        this.#state.checkpoint(encodeSnapshot(snapshot));
        await writer.commitTransaction();
        return;
      }
      case 'at-least-once':
        await this.send(output);
        this.#state.checkpoint(encodeSnapshot(snapshot));
        if (offsets.length > 0) await this.#backend.commitOffsets(this.#group, offsets);
        return;
      case 'at-most-once':
        this.#state.checkpoint(encodeSnapshot(snapshot));
        if (offsets.length > 0) await this.#backend.commitOffsets(this.#group, offsets);
        await this.send(output);
        return;
    }
  }

  async send(output: Map<string, OutgoingRecord[]>): Promise<void> {
    for (const [topic, records] of output) await this.#writer.send(topic, records);
  }

  close(): Promise<void> {
    return this.#writer.close();
  }
}
