/**
 * The checkpoint coordinator: a round's output, the source offsets it consumed and the job's
 * state become durable as one checkpoint (DESIGN section 6). The steps and their order per
 * guarantee are written once, in `CHECKPOINT_STEPS`; who does what at each step is pluggable:
 *
 * - the log: a `BackendWriter` (transactions; two-phase `prepareTransaction` where the log has
 *   it) and the backend's group offsets. The embedded log, the memory log and a Kafka cluster
 *   all sit behind that interface.
 * - the state: a `StatePersistence` from the state backend. State that travels in the log
 *   (memory state's snapshot record; a Kafka changelog) is written at the `state` step, inside
 *   the transaction; state kept in a store of its own (lmdb) is written at the `persist` step,
 *   after the log transaction is prepared, in one store transaction with a record naming it.
 * - sinks outside the log (files, Postgres): `CheckpointParticipant`s, written at `output`,
 *   prepared at `prepare` and committed at `commit` with the log.
 *
 * The `prepare` step only runs when someone commits outside the log (a two-phase state or a
 * participant that prepares); otherwise the log transaction commits in one phase.
 */
import type { Guarantee } from '../api/index.ts';
import type { BackendWriter, LogBackend, OutgoingRecord, TopicPartitionOffset } from '../backend/index.ts';
import { SluiceError } from '../core/index.ts';
import type { JobSnapshot } from './snapshot.ts';

export type CheckpointStep = 'begin' | 'output' | 'state' | 'offsets' | 'prepare' | 'persist' | 'commit';

/**
 * The order of a checkpoint's steps per guarantee: the one place it is written.
 *
 * - exactly-once: all in one log transaction; a crash before `commit` leaves nothing visible
 *   (or a prepared transaction the next start commits exactly when the persisted state names it).
 * - at-least-once: output first, offsets last: a crash in between repeats output, loses none.
 * - at-most-once: state and offsets first, output last: a crash in between loses output, repeats none.
 */
export const CHECKPOINT_STEPS: Readonly<Record<Guarantee, readonly CheckpointStep[]>> = {
  'exactly-once': ['begin', 'output', 'state', 'offsets', 'prepare', 'persist', 'commit'],
  'at-least-once': ['output', 'state', 'persist', 'offsets'],
  'at-most-once': ['state', 'persist', 'offsets', 'output'],
};

/** One checkpoint in the making, as the state persistence sees it. */
export interface CheckpointWrite {
  /** The job snapshot; for a two-phase commit its `txn` names the prepared log transaction. */
  readonly snapshot: JobSnapshot;
  /** Processing time of the checkpoint, epoch ms (record timestamps). */
  readonly now: number;
  /** Writes records to the log: inside the checkpoint's transaction when there is one. */
  send(topic: string, records: OutgoingRecord[]): Promise<void>;
}

/** A state backend's half of the checkpoint protocol: how the job's state is saved and found again. */
export interface StatePersistence {
  /** The state commits outside the log, so the log transaction is prepared before `persist` (lmdb). */
  readonly twoPhase: boolean;
  /** The `state` step: writes the state into the log, in the transaction (memory: the snapshot record). */
  stage?(write: CheckpointWrite): Promise<void>;
  /** The `persist` step: makes the state durable in its own store, with the snapshot naming the prepared transaction (lmdb). */
  persist?(write: CheckpointWrite): Promise<void>;
  /** The last complete checkpoint, or undefined when there is none. */
  load(): Promise<JobSnapshot | undefined>;
  /**
   * Starts from empty state; `keep` stays the last checkpoint (a bounded run's final one, so a
   * later start knows the state is not lost), and the durable tables `keepTable` names stay too
   * (what a new run keeps of a bounded run's end).
   */
  startEmpty(keep?: JobSnapshot, keepTable?: (scope: string) => boolean): void;
  /** The durable tables a savepoint copies (none when the state is inside the snapshot). */
  tables(): [scope: string, entries: Iterable<[unknown, unknown]>][];
}

/**
 * A sink outside the log that joins checkpoints (files, Postgres). Its transaction is named
 * after the checkpoint id, so recovery needs nothing beyond the last checkpoint's id. Without a
 * `commit` step (at-least-once, at-most-once) `commit` follows `write` at once.
 */
export interface CheckpointParticipant {
  readonly name: string;
  /** The `output` step: writes what the sink holds for checkpoint `id`, not yet visible (rows in an open database transaction; a temporary file). */
  write(id: number): Promise<void>;
  /** The `prepare` step: makes it durable, still invisible (PREPARE TRANSACTION; fsync). */
  prepare?(id: number): Promise<void>;
  /** The `commit` step, after the log committed: makes it visible (COMMIT PREPARED; rename). */
  commit(id: number): Promise<void>;
  /** Checkpoint `id` failed before it was prepared: drops what was written for it. */
  abort(id: number): Promise<void>;
  /** On start: commits what checkpoints up to `last` prepared and drops anything later; `snapshot` is checkpoint `last` (its write-ahead `sinks`). */
  recover(last: number, snapshot?: JobSnapshot): Promise<void>;
}

export interface CoordinatorOptions {
  backend: LogBackend;
  /** The app's consumer group (and transactional id). */
  group: string;
  guarantee: Guarantee;
  state: StatePersistence;
  participants?: CheckpointParticipant[];
  /** The transactional id (default the group's name); scale-out gives each process its own. */
  transactionalId?: string;
}

export class CheckpointCoordinator {
  readonly #backend: LogBackend;
  readonly #writer: BackendWriter;
  readonly #group: string;
  readonly #steps: readonly CheckpointStep[];
  readonly #state: StatePersistence;
  readonly #participants: CheckpointParticipant[];
  readonly #twoPhase: boolean;

  private constructor(options: CoordinatorOptions, writer: BackendWriter, twoPhase: boolean) {
    this.#backend = options.backend;
    this.#writer = writer;
    this.#group = options.group;
    this.#steps = CHECKPOINT_STEPS[options.guarantee];
    this.#state = options.state;
    this.#participants = options.participants ?? [];
    this.#twoPhase = twoPhase;
  }

  /** Opens the log writer the guarantee needs (transactional, named after the app, for exactly-once). */
  static async open(options: CoordinatorOptions): Promise<CheckpointCoordinator> {
    const { backend, group, guarantee } = options;
    const transactional = CHECKPOINT_STEPS[guarantee].includes('begin');
    const writer = await backend.openWriter(transactional ? { transactionalId: options.transactionalId ?? group } : {});
    const twoPhase = transactional && (options.state.twoPhase || (options.participants ?? []).some((p) => p.prepare !== undefined));
    if (twoPhase && writer.prepareTransaction === undefined) {
      await writer.close();
      throw new SluiceError('INVALID_ARGUMENT', `exactly-once with state or sinks outside the log needs a log with two-phase commit (the embedded log); the ${backend.kind} log has none: use state 'memory' there`);
    }
    return new CheckpointCoordinator(options, writer, twoPhase);
  }

  /**
   * The last complete checkpoint, after settling what a crash left half done: a prepared log
   * transaction is committed when that checkpoint names it and aborted otherwise; participants
   * commit what it covers and drop the rest. Either way output, offsets and state agree.
   */
  async recover(): Promise<JobSnapshot | undefined> {
    const snapshot = await this.#state.load();
    const pending = this.#writer.pendingPrepared;
    if (pending !== undefined) await this.#writer.completePrepared!(snapshot?.txn === pending);
    for (const participant of this.#participants) await participant.recover(snapshot?.id ?? 0, snapshot);
    return snapshot;
  }

  /** Makes `output`, the source `offsets` and `snapshot` durable as one checkpoint, in the guarantee's order. */
  async commit(output: Map<string, OutgoingRecord[]>, offsets: TopicPartitionOffset[], snapshot: JobSnapshot, now: number): Promise<void> {
    const writer = this.#writer;
    const write: CheckpointWrite = { snapshot, now, send: (topic, records) => writer.send(topic, records) };
    const hasCommitStep = this.#steps.includes('commit');
    let open = false; // a log transaction is open and not yet prepared: a failure aborts it
    try {
      for (const step of this.#steps) {
        switch (step) {
          case 'begin':
            await writer.beginTransaction();
            open = true;
            break;
          case 'output':
            for (const [topic, records] of output) await writer.send(topic, records);
            for (const p of this.#participants) {
              await p.write(snapshot.id);
              if (!hasCommitStep) await p.commit(snapshot.id);
            }
            break;
          case 'state':
            await this.#state.stage?.(write);
            break;
          case 'offsets':
            if (offsets.length === 0) break;
            if (open) await writer.sendOffsetsToTransaction(this.#group, offsets);
            else await this.#backend.commitOffsets(this.#group, offsets);
            break;
          case 'prepare':
            if (!this.#twoPhase) break;
            snapshot.txn = await writer.prepareTransaction!();
            // From here a failure leaves the transaction prepared: the next start settles it.
            open = false;
            for (const p of this.#participants) await p.prepare?.(snapshot.id);
            break;
          case 'persist':
            await this.#state.persist?.(write);
            break;
          case 'commit':
            await writer.commitTransaction();
            open = false;
            for (const p of this.#participants) await p.commit(snapshot.id);
            break;
        }
      }
    } catch (error) {
      if (open) {
        await writer.abortTransaction().catch(() => undefined);
        for (const p of this.#participants) await p.abort(snapshot.id).catch(() => undefined);
      }
      throw error;
    }
  }

  /** at-least-once: writes output now, ahead of its checkpoint (a crash before it may repeat the output). */
  async sendEarly(output: Map<string, OutgoingRecord[]>): Promise<void> {
    for (const [topic, records] of output) await this.#writer.send(topic, records);
  }

  /** Starts from empty state (see `StatePersistence.startEmpty`). */
  startEmpty(keep?: JobSnapshot, keepTable?: (scope: string) => boolean): void {
    this.#state.startEmpty(keep, keepTable);
  }

  /** The durable tables of the state, for a savepoint. */
  tables(): [scope: string, entries: Iterable<[unknown, unknown]>][] {
    return this.#state.tables();
  }

  close(): Promise<void> {
    return this.#writer.close();
  }
}
