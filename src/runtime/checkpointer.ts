/**
 * The job's checkpointer: when to checkpoint (every interval, when output or changed state
 * grows large, on demand), what a checkpoint holds (the job snapshot of every stage), and
 * where a job starts from (its last checkpoint, a savepoint, or nothing — refused when the
 * group already consumed input a stateful pipeline's state depended on). How a checkpoint
 * becomes durable is the coordinator's (src/checkpoint/coordinator.ts). Savepoints are
 * served here too, asked for by `Job.savepoint()` or the control topic.
 */
import type { Guarantee } from '../api/index.ts';
import type { LogBackend, OutgoingRecord, TopicPartitionOffset } from '../backend/index.ts';
import { CheckpointCoordinator, decodeSnapshot, encodeSnapshot, type JobSnapshot, listSavepoints, readSavepoint, type StatePersistence, stateShape, statePersistence, writeSavepoint } from '../checkpoint/index.ts';
import { SluiceError } from '../core/index.ts';
import type { StateBackend } from '../state/index.ts';
import type { ConnectorSinks } from './connector-sinks.ts';
import { ControlChannel } from './control.ts';
import type { JobProbe } from './metrics.ts';
import type { OutputBuffer } from './output-buffer.ts';
import { endedRestore, operatorNames, restoreCheckpoint, restoreSavepoint } from './restore.ts';
import type { Topology } from './topology.ts';

/**
 * Changed state entries that make the job checkpoint before its interval is up (bounds lmdb's
 * write-back). A background checkpoint still queues its writes in one event turn (one LMDB
 * transaction), about 0.6-1 µs of the processing thread per entry on a loaded 2-core machine,
 * so this also bounds that turn: 50,000 entries keep it near 50 ms, and twice that (the most
 * that piles up while the previous checkpoint is written, see `maybeCommit`) under 100 ms.
 */
const MAX_PENDING_STATE = 50_000;
/** Buffered output records that make the job checkpoint before its interval is up. */
const MAX_PENDING_OUTPUT = 50_000;

export interface CheckpointerOptions {
  name: string;
  guarantee: Guarantee;
  checkpointIntervalMs: number;
  clock: () => number;
  warn: (message: string) => void;
  /** Where savepoints are kept; without it there are none (and no control topic unless `control`). */
  dataDir?: string;
  /** Reads the control topic without savepoints (the first worker thread of a run on several: `sluice plan`). */
  control?: boolean;
  fromSavepoint?: string;
  dropState?: string[];
  /** How checkpoints are saved and found (default by the state backend); `blank` is the job's state before any restore. */
  persistence?: (blank: () => JobSnapshot) => StatePersistence;
  /** The transactional id of exactly-once commits (default the app's name). */
  transactionalId?: string;
  /** Called after each checkpoint committed, with the source offsets it committed. */
  afterCommit?: (offsets: TopicPartitionOffset[]) => Promise<void>;
  /** Sinks outside the log (`stream.to(sink)`), checkpoint participants. */
  sinks?: ConnectorSinks;
}

/** A checkpoint committed in the background: whether it ended, and how. */
interface InFlight {
  settled: boolean;
  failure: unknown;
  /** Resolves (never rejects) when it ended. */
  done: Promise<void>;
  /** metrics: when the loop began to wait for it (performance.now()), or -1. */
  waitingSince: number;
}

export interface SavepointRequest {
  resolve: (id: string) => void;
  reject: (error: unknown) => void;
}

export class Checkpointer {
  readonly #options: CheckpointerOptions;
  readonly #topology: Topology;
  readonly #backend: LogBackend;
  readonly #state: StateBackend;
  readonly #buffer: OutputBuffer;
  readonly #probe: JobProbe;
  #coordinator: CheckpointCoordinator | undefined;
  #control: ControlChannel | undefined;
  #checkpointId = 0;
  #lastCommit = 0;
  #committedPosition = -1;
  /** metrics: at-least-once output written ahead of the checkpoint, reported with it. */
  readonly #sentEarly = new Map<string, OutgoingRecord[]>();
  /** A bounded run fired everything at watermark +Infinity: its last checkpoint is final. */
  ended = false;
  /** The last checkpoint committed was a bounded run's final one. */
  #committedFinal = false;
  /** The run is stopping: its next forced checkpoint is its last (sinks finish what is open). */
  closing = false;
  /** The checkpoint being written in the background, if any. */
  #inFlight: InFlight | undefined;

  constructor(options: CheckpointerOptions, topology: Topology, backend: LogBackend, state: StateBackend, buffer: OutputBuffer, probe: JobProbe) {
    this.#options = options;
    this.#topology = topology;
    this.#backend = backend;
    this.#state = state;
    this.#buffer = buffer;
    this.#probe = probe;
  }

  /** Opens the coordinator, settles what a crash left, and restores the job's state. */
  async open(): Promise<void> {
    const { name, guarantee, warn } = this.#options;
    let warned = false;
    const warnOnce = (message: string) => {
      warned = true;
      warn(message);
    };
    const persistence = this.#options.persistence?.(() => this.snapshot(0)) ?? statePersistence(this.#state, this.#backend, name, warnOnce);
    const { transactionalId } = this.#options;
    const sinks = this.#options.sinks;
    if (sinks !== undefined) await sinks.open(name, guarantee, this.#options.clock, warn);
    const participants = sinks?.participants() ?? [];
    this.#coordinator = await CheckpointCoordinator.open({ backend: this.#backend, group: name, guarantee, state: persistence, participants, ...(transactionalId === undefined ? {} : { transactionalId }) });
    const saved = await this.#coordinator.recover();
    this.#checkpointId = saved?.id ?? 0;
    const parts = { name, plan: this.#topology.plan, stages: this.#topology.stages, state: this.#state };
    if (this.#options.fromSavepoint !== undefined) {
      if (this.#options.dataDir === undefined) throw new SluiceError('INVALID_ARGUMENT', 'savepoints need a dataDir');
      const savepoint = readSavepoint(this.#options.dataDir, name, this.#options.fromSavepoint);
      this.#coordinator.startEmpty();
      restoreSavepoint(parts, savepoint, this.#options.dropState ?? []);
    } else if (saved !== undefined && !saved.final) {
      if (!warned) this.#warnIfOlder(saved);
      restoreCheckpoint(parts, saved);
    } else if (saved !== undefined) {
      // A bounded run's last checkpoint fired everything at watermark +Infinity: the next run starts
      // from the committed offsets with its watermarks and windows empty (its watermarks would make
      // every record late), and keeps its tables, which the end of the input did not finish.
      const ended = endedRestore(parts, saved);
      this.#coordinator.startEmpty(saved, (scope) => ended.kept.has(scope.split('/')[0]));
      ended.apply();
      for (const stage of this.#topology.stages) stage.resumeReaders(saved.sources[stage.id]);
    } else {
      this.#refuseLostState();
      this.#coordinator.startEmpty();
    }
    if (this.#options.dataDir !== undefined || this.#options.control === true) {
      this.#control = new ControlChannel(this.#backend, name);
      await this.#control.open();
    }
    this.#lastCommit = this.#options.clock();
  }

  /** No checkpoint, but the group consumed input: the state that input built is gone, and starting empty would give wrong results. */
  #refuseLostState(): void {
    if (!this.#topology.stateful) return;
    const consumed: string[] = [];
    for (const [topic, partitions] of this.#topology.committed) for (const [partition, offset] of partitions) if (offset > 0) consumed.push(`${topic}/${partition}:${offset}`);
    if (consumed.length === 0) return;
    const { name, dataDir } = this.#options;
    const savepoints = dataDir === undefined ? [] : listSavepoints(dataDir, name);
    throw new SluiceError(
      'STATE_MISSING',
      `app '${name}' has committed input up to ${consumed.join(', ')} (topic/partition:offset) but no state (${this.#state.store ? `nothing in '${this.#state.store.location}'` : `no checkpoint in topic '${name}.checkpoints'`}); start from a savepoint (sluice run FILE --from-savepoint ID${savepoints.length > 0 ? `; it has ${savepoints.join(', ')}` : ''}) or reset it (sluice app reset ${name}) to process its input again`,
    );
  }

  /** The group committed past the restored checkpoint: a later one was lost (a truncated checkpoint topic, say). */
  #warnIfOlder(saved: JobSnapshot): void {
    for (const stage of this.#topology.stages) {
      for (const source of stage.sources) {
        const restored = saved.sources[stage.id]?.[source.partition]?.offset;
        const committed = this.#topology.committed.get(source.topic)?.get(source.partition);
        if (restored === undefined || committed === undefined || committed <= restored) continue;
        this.#options.warn(`the group of '${this.#options.name}' committed ${source.topic}/${source.partition} up to offset ${committed}, but the last checkpoint that can be read (checkpoint ${saved.id}) stops at ${restored}; restoring it: output committed after it may be written again`);
        return;
      }
    }
  }

  /**
   * Commits when the interval is up (or output or changed state grew large), or now with `force`.
   * With state in a durable store of its own (lmdb) and no sinks outside the log, a checkpoint
   * that is not forced is written in the background: the barrier (offsets, output, snapshot, the
   * state's change set sealed) is taken here, and processing goes on while the coordinator
   * commits it; the next checkpoint waits for it. Forced ones (savepoints, the end of a run) are
   * written before this returns, after the one in flight.
   */
  async maybeCommit(force: boolean): Promise<void> {
    const coordinator = this.#coordinator!;
    const now = this.#options.clock();
    // at-least-once: output is visible at once, not at the checkpoint (a crash may repeat it).
    if (this.#options.guarantee === 'at-least-once' && this.#buffer.size > 0) {
      const early = this.#buffer.drain();
      await coordinator.sendEarly(early);
      if (this.#probe.active) appendAll(this.#sentEarly, early); // metrics
    }
    const sinks = this.#options.sinks;
    const sinkPending = sinks?.pending ?? 0;
    const flight = this.#inFlight;
    if (flight !== undefined) {
      // One checkpoint at a time; changes piling up far past the early-checkpoint bounds wait for it (backpressure).
      const piledUp = this.#state.pending >= 2 * MAX_PENDING_STATE || this.#buffer.size + sinkPending >= 2 * MAX_PENDING_OUTPUT;
      if (!force && !piledUp && !flight.settled) return;
      await this.#settle();
    }
    if (!force && now - this.#lastCommit < this.#options.checkpointIntervalMs && this.#buffer.size + sinkPending < MAX_PENDING_OUTPUT && this.#state.pending < MAX_PENDING_STATE) return;
    this.#lastCommit = now;
    // Nothing read and nothing to write since the last commit: no empty transaction (the last one still tells sinks to finish).
    const position = this.#topology.position();
    const finishing = force && (this.ended || this.closing) && (sinks?.size ?? 0) > 0;
    // A bounded run's end is always written, so the next run knows these tasks ended and starts them afresh.
    const ending = this.ended && !this.#committedFinal;
    if (this.#buffer.size === 0 && sinkPending === 0 && position === this.#committedPosition && !finishing && !ending) return;
    // Sinks in complete mode write their whole table (every task's part) into this checkpoint's output.
    for (const stage of this.#topology.stages) for (const task of stage.tasks) for (const op of task.operators()) op.beforeCheckpoint?.();
    const offsets = this.#topology.offsets();
    const output = this.#buffer.drain();
    // The state as of these offsets commits with them (and, for exactly-once, in the same transaction).
    const t0 = performance.now(); // metrics: a checkpoint's time includes taking the snapshot
    const snapshot = this.snapshot(this.#checkpointId + 1);
    const ahead = sinks?.seal(snapshot.id, this.ended || this.closing, now);
    if (ahead !== undefined) snapshot.sinks = ahead;
    const store = this.#state.store;
    if (force || store === undefined || (sinks?.size ?? 0) > 0) {
      await this.#commitAndFinish(output, offsets, snapshot, snapshot.sources, now, t0, position, () => performance.now() - t0);
      return;
    }
    // Processing goes on changing the objects the snapshot was taken from: the checkpoint gets a
    // copy as of the barrier (what `persist` would encode), and the state's change set is sealed.
    const barrier = decodeSnapshot(encodeSnapshot(snapshot));
    store.seal();
    // metrics: what it costs processing is this part, the store's work on the loop's thread, and any wait for it.
    const barrierMs = performance.now() - t0;
    const storeMs = store.loopMs;
    const started: InFlight = { settled: false, failure: undefined, done: Promise.resolve(), waitingSince: -1 };
    const held = () => barrierMs + (store.loopMs - storeMs) + (started.waitingSince < 0 ? 0 : performance.now() - started.waitingSince);
    started.done = this.#commitAndFinish(output, offsets, barrier, snapshot.sources, now, t0, position, held).then(
      () => {
        started.settled = true;
      },
      (error: unknown) => {
        started.failure = error ?? new Error('checkpoint failed');
        started.settled = true;
      },
    );
    this.#inFlight = started;
  }

  /** Waits for the checkpoint in flight; its failure stops the job here. */
  async #settle(): Promise<void> {
    const flight = this.#inFlight;
    if (flight === undefined) return;
    flight.waitingSince = performance.now();
    await flight.done;
    this.#inFlight = undefined;
    if (flight.failure !== undefined) throw flight.failure;
  }

  /** Commits one checkpoint taken at a barrier, then tells those who wait on it. */
  async #commitAndFinish(output: Map<string, OutgoingRecord[]>, offsets: TopicPartitionOffset[], snapshot: JobSnapshot, sources: JobSnapshot['sources'], now: number, t0: number, position: number, held: () => number): Promise<void> {
    if (!this.#probe.active) await this.#coordinator!.commit(output, offsets, snapshot, now);
    else await this.#timedCommit(output, offsets, snapshot, now, t0, held); // metrics
    this.#checkpointId = snapshot.id;
    this.#committedPosition = position;
    this.#committedFinal = snapshot.final;
    await this.#options.afterCommit?.(offsets);
    // The interval counts from the end of this checkpoint, not its start: one slower than the
    // interval (a large heap state written whole) leaves the job an interval of work before the
    // next, instead of checkpointing after every round.
    this.#lastCommit = this.#options.clock();
    // Sources outside the log learn what is durable now (a push source acknowledges its senders).
    for (const stage of this.#topology.stages) {
      stage.sources.forEach((source, p) => {
        const saved = sources[stage.id]?.[p]?.position;
        if (saved !== undefined) source.reader?.committed?.(saved);
      });
    }
  }

  /** metrics: the commit step timed, and its outcome published with the consumer lag after it. */
  async #timedCommit(output: Map<string, OutgoingRecord[]>, offsets: TopicPartitionOffset[], snapshot: JobSnapshot, now: number, t0: number, held: () => number): Promise<void> {
    // at-least-once output sent ahead of this checkpoint is reported with it.
    const reported = new Map(this.#sentEarly);
    this.#sentEarly.clear();
    appendAll(reported, output);
    try {
      await this.#coordinator!.commit(output, offsets, snapshot, now);
    } catch (error) {
      await this.#probe.committed(this.#backend, reported, performance.now() - t0, held(), error);
      throw error;
    }
    await this.#probe.committed(this.#backend, reported, performance.now() - t0, held());
  }

  /** The job snapshot: every stage's task snapshots, source positions and leaving watermarks. */
  snapshot(id: number): JobSnapshot {
    const { plan, stages } = this.#topology;
    return {
      version: 1,
      id,
      final: this.ended,
      shape: operatorNames(plan),
      stateShapes: plan.stages.map((stage) => stage.ops.map((op) => stateShape(op.node))),
      tasks: stages.map((stage) => stage.snapshotTasks()),
      sources: stages.map((stage) => stage.snapshotSources()),
      leaving: stages.map((stage) => [...stage.leaving]),
    };
  }

  /** Takes the savepoints asked for since the last round (`waiting`, and requests on the control topic); starts profiles asked for. */
  async serveSavepoints(waiting: SavepointRequest[]): Promise<void> {
    const control = (await this.#control?.requests(this.#options.clock())) ?? [];
    if (this.#control !== undefined) for (const request of this.#control.takeProfileRequests()) this.#probe.profile(request, this.#control);
    if (waiting.length === 0 && control.length === 0) return;
    let id: string | undefined;
    let failure: unknown;
    try {
      const { dataDir, name } = this.#options;
      if (dataDir === undefined) throw new SluiceError('INVALID_ARGUMENT', `app '${name}' keeps no savepoints here: they need the embedded log's data directory and a run on one thread`);
      // The savepoint is the state as of a commit: commit what this round did first.
      await this.maybeCommit(true);
      const durable = this.#coordinator!.tables();
      const snapshot = { ...this.snapshot(this.#checkpointId), tableScopes: durable.map(([scope]) => scope) };
      id = writeSavepoint(dataDir, name, snapshot, durable, this.#options.clock());
    } catch (error) {
      failure = error;
    }
    for (const request of control) {
      await this.#control!.reply(id === undefined ? { type: 'savepoint-failed', request, error: String(failure instanceof Error ? failure.message : failure) } : { type: 'savepoint-done', request, id });
    }
    for (const w of waiting) {
      if (id === undefined) w.reject(failure);
      else w.resolve(id);
    }
  }

  async close(): Promise<void> {
    // A checkpoint still being written finishes (or fails, already reported by the job) first.
    await this.#inFlight?.done;
    await this.#control?.close();
    await this.#coordinator?.close();
  }
}

/** Adds `more`'s records to `into`, topic by topic (metrics of early at-least-once output). */
function appendAll(into: Map<string, OutgoingRecord[]>, more: Map<string, OutgoingRecord[]>): void {
  for (const [topic, records] of more) {
    const list = into.get(topic);
    if (list === undefined) into.set(topic, [...records]);
    else for (const record of records) list.push(record);
  }
}
