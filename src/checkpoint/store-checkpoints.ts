/**
 * Checkpoints of state kept in a durable store of its own (the lmdb backend), the two-phase
 * protocol of DESIGN section 6. The changed entries are sealed at the checkpoint's barrier
 * (the checkpointer may then go on processing while the checkpoint is committed); at the
 * coordinator's `persist` step (after the log transaction is prepared, for exactly-once) one
 * store transaction writes them and the job snapshot, CRC-framed, naming the prepared log
 * transaction (`snapshot.txn`), and only once that is on disk does the coordinator commit the
 * log transaction.
 *
 * On start the coordinator commits a prepared transaction left by a crash if the last record
 * names it (the state already includes its round) and aborts it otherwise (the state does not).
 * Either way output, offsets and state agree. The job snapshot's source offsets are what a
 * restored job reads from, so a crash between the store commit and the group-offset commit
 * repeats nothing.
 */
import { SluiceError } from '../core/index.ts';
import type { DurableStore } from '../state/index.ts';
import type { CheckpointWrite, StatePersistence } from './coordinator.ts';
import { decodeSnapshot, encodeSnapshot, type JobSnapshot } from './snapshot.ts';

export class StoreCheckpoints implements StatePersistence {
  readonly twoPhase = true;
  readonly #store: DurableStore;

  constructor(store: DurableStore) {
    this.#store = store;
  }

  async load(): Promise<JobSnapshot | undefined> {
    const bytes = this.#store.lastCheckpoint();
    try {
      return bytes === undefined ? undefined : decodeSnapshot(bytes);
    } catch (cause) {
      throw new SluiceError('CHECKPOINT_CORRUPT', `the checkpoint record in '${this.#store.location}' cannot be decoded; start from a savepoint, or reset the app to process its input again without state`, { cause });
    }
  }

  async persist(write: CheckpointWrite): Promise<void> {
    // The changes were sealed at the checkpoint's barrier (or are sealed now); resolves once durable.
    await this.#store.writeCheckpoint(encodeSnapshot(write.snapshot));
  }

  startEmpty(keep?: JobSnapshot, keepTable?: (scope: string) => boolean): void {
    this.#store.clear(keepTable);
    // The tables are empty now (or as that checkpoint left them), so this writes the record alone.
    if (keep !== undefined) this.#store.checkpoint(encodeSnapshot(keep));
  }

  tables(): [string, Iterable<[unknown, unknown]>][] {
    return this.#store.tables();
  }
}
