/**
 * A running pipeline: a topology (stages, tasks, exchanges; topology.ts), rounds over it
 * (rounds.ts) and a checkpointer (checkpointer.ts). This file only runs them: bounded (until
 * the inputs' current ends, then every window fires), unbounded (until `stop()`), or one round
 * at a time when a test driver steps it (stepping.ts).
 */
import type { Guarantee, LogicalGraph, OnError } from '../api/index.ts';
import type { LogBackend, TopicPartitionOffset } from '../backend/index.ts';
import type { Codec } from '../core/index.ts';
import { SluiceError } from '../core/index.ts';
import { type PhysicalPlan, physicalPlan } from '../plan/index.ts';
import type { JobSnapshot, StatePersistence } from '../checkpoint/index.ts';
import { MemoryStateBackend, type StateBackend } from '../state/index.ts';
import { Checkpointer, type SavepointRequest } from './checkpointer.ts';
import { ConnectorSinks } from './connector-sinks.ts';
import { ErrorRouter } from './errors.ts';
import type { ExchangeFactory } from './exchange.ts';
import { JobProbe, type Profiler } from './metrics.ts';
import { OutputBuffer } from './output-buffer.ts';
import { Rounds } from './rounds.ts';
import { driverOf, type JobDriver, StepQueue, type SteppedJob } from './stepping.ts';
import { StoreRegistry } from './stores.ts';
import { Topology } from './topology.ts';

export interface JobOptions {
  name: string;
  graph: LogicalGraph;
  backend: LogBackend;
  guarantee: Guarantee;
  onError: OnError;
  checkpointIntervalMs: number;
  /** Processing-time clock, epoch ms (a manual clock in tests). */
  clock: () => number;
  /** Records per fetch (default 1000). Results never depend on it. */
  batchSize?: number;
  print?: (line: string) => void;
  codec?: Codec;
  /** How keyBy hands records to the task owning their key (default in process). */
  exchanges?: ExchangeFactory;
  /** Where keyed state lives (default the heap, checkpointed whole into `<name>.checkpoints`). */
  state?: StateBackend;
  /** Recoverable trouble worth telling the operator (default stderr). */
  warn?: (message: string) => void;
  /** Where savepoints are kept (`<dataDir>/savepoints/<name>/`); without it there are none. */
  dataDir?: string;
  /** Start from this savepoint instead of the last checkpoint. */
  fromSavepoint?: string;
  /** Operators whose saved state a savepoint restore leaves behind. */
  dropState?: string[];
  /** Scale-out: the tasks (partitions) this process runs; keyed stages read repartition topics. */
  assigned?: ReadonlySet<number>;
  /** How checkpoints are saved and found (default by the state backend); `blank` is the job's state before any restore. */
  persistence?: (blank: () => JobSnapshot) => StatePersistence;
  /** The transactional id of exactly-once commits (default the app's name). */
  transactionalId?: string;
  /** Called after each checkpoint committed, with the source offsets it committed. */
  afterCommit?: (offsets: TopicPartitionOffset[]) => Promise<void>;
  /** Reads the app's control topic though it keeps no savepoints (a worker thread answering `sluice plan`). */
  control?: boolean;
  /** Who answers `sluice plan` (default: this job measures itself; null: another thread answers). */
  profiler?: Profiler | null;
}

export interface RunSummary {
  /** Source records read. */
  records: number;
  /** Records sent to the dead-letter topic. */
  deadLetters: number;
  /** Records windows judged late in this run: dropped, or sent to a late-data side output. */
  late: number;
  /** Records written to sink topics (dead letters excluded). */
  written: number;
}

export class Job implements SteppedJob {
  readonly plan: PhysicalPlan;
  /** Named windowed aggregates, queryable while the job runs. */
  readonly stores = new StoreRegistry();
  readonly #options: JobOptions;
  readonly #buffer = new OutputBuffer();
  readonly #errors: ErrorRouter;
  readonly #state: StateBackend;
  readonly #sinks: ConnectorSinks;
  #probe: JobProbe | undefined;
  readonly #driver: JobDriver | undefined;
  #topology: Topology | undefined;
  #rounds: Rounds | undefined;
  #checkpointer: Checkpointer | undefined;
  #written = 0;
  /** Late records the restored operators had counted before this run. */
  #lateBefore = 0;
  #stopped = false;
  #interrupted = false;
  #wake: (() => void) | undefined;
  /** An async call finished while no wait was under way: the next wait returns at once. */
  #poked = false;
  readonly #steps = new StepQueue();
  /** Savepoints asked for (app.savepoint()), taken after the current round. */
  #savepoints: SavepointRequest[] = [];

  constructor(options: JobOptions) {
    this.#options = options;
    this.#state = options.state ?? new MemoryStateBackend();
    this.plan = physicalPlan(options.graph);
    this.#sinks = new ConnectorSinks(this.plan);
    this.#errors = new ErrorRouter(options.name, options.onError, this.#buffer);
    // A test driver steps the job's rounds: it knows of the job from the start, so a step asked
    // for while the job still opens waits for it.
    this.#driver = driverOf(options.backend);
    this.#driver?.attach(this);
  }

  get name(): string {
    return this.#options.name;
  }

  get backend(): LogBackend {
    return this.#options.backend;
  }

  /** Creates topics, tasks and exchanges, positions every source, and restores the last checkpoint (or a savepoint). */
  async open(): Promise<void> {
    const options = this.#options;
    const { backend, clock } = options;
    const env = {
      stores: this.stores,
      sink: {
        append: (topic: string, record: Parameters<OutputBuffer['append']>[1]) => this.#sinkAppend(topic, record),
        appendAll: (topic: string, records: Parameters<OutputBuffer['appendAll']>[1]) => {
          this.#written += records.length;
          this.#buffer.appendAll(topic, records);
        },
      },
      wake: () => this.#poke(),
      connectorSink: (name: string) => {
        const push = this.#sinks.push(name);
        return (value: unknown) => {
          this.#written++;
          push(value);
        };
      },
      onError: this.#errors.handler,
      clock,
      print: options.print ?? ((line: string) => process.stdout.write(`${line}\n`)),
    };
    const topology = await Topology.open({
      name: options.name,
      plan: this.plan,
      backend,
      state: this.#state,
      env,
      onError: this.#errors.handler,
      deadLetterTopic: this.#errors.topic,
      clock,
      ...(options.codec === undefined ? {} : { codec: options.codec }),
      ...(options.exchanges === undefined ? {} : { exchanges: options.exchanges }),
      ...(options.assigned === undefined ? {} : { assigned: options.assigned }),
      output: (topic, record) => this.#buffer.append(topic, record),
    });
    this.#topology = topology;
    const probe = new JobProbe(
      { name: options.name, plan: this.plan, stages: topology.stages, deadLetters: () => this.#errors.count, written: () => this.#written, stateSizes: () => this.#state.sizes(), ...(options.profiler === undefined ? {} : { profiler: options.profiler }) },
      clock,
    );
    this.#probe = probe;
    this.#rounds = new Rounds(topology, backend, probe, clock, options.batchSize ?? 1000);
    const warn = options.warn ?? ((message: string) => process.stderr.write(`sluice: ${message}\n`));
    const { name, guarantee, checkpointIntervalMs, dataDir, control, fromSavepoint, dropState, persistence, transactionalId, afterCommit } = options;
    this.#checkpointer = new Checkpointer(
      {
        name,
        guarantee,
        checkpointIntervalMs,
        clock,
        warn,
        ...(dataDir === undefined ? {} : { dataDir }),
        ...(control === undefined ? {} : { control }),
        ...(fromSavepoint === undefined ? {} : { fromSavepoint }),
        ...(dropState === undefined ? {} : { dropState }),
        ...(persistence === undefined ? {} : { persistence }),
        ...(transactionalId === undefined ? {} : { transactionalId }),
        ...(afterCommit === undefined ? {} : { afterCommit }),
        ...(this.#sinks.size === 0 ? {} : { sinks: this.#sinks }),
      },
      topology,
      backend,
      this.#state,
      this.#buffer,
      probe,
    );
    await this.#checkpointer.open();
    this.#lateBefore = topology.late();
    probe.started(guarantee, checkpointIntervalMs); // metrics
  }

  #sinkAppend(topic: string, record: Parameters<OutputBuffer['append']>[1]): void {
    this.#written++;
    this.#buffer.append(topic, record);
  }

  /** Processes what the sources hold now (up to event time `until`, when given), fires every window (complete by then), commits, and returns. */
  async runBounded(until?: number): Promise<RunSummary> {
    this.#driver?.detach(this);
    this.#steps.end();
    const rounds = this.#rounds!;
    const topology = this.#topology!;
    const checkpointer = this.#checkpointer!;
    await rounds.bound(until);
    for (;;) {
      const before = topology.position();
      const read = await rounds.round();
      await checkpointer.maybeCommit(false);
      await this.#serveSavepoints();
      if (this.#interrupted) {
        // Scale-out: the tasks are revoked; commit what was processed (not a final checkpoint) and hand them over.
        await checkpointer.maybeCommit(true);
        return this.#summary();
      }
      // Done when every source reached its end and no async call is still out.
      if (rounds.done && topology.asyncPending === 0) break;
      // Nothing moved (records below the end not readable yet, or async calls out): wait, never spin.
      if (read === 0 && topology.position() === before) await (rounds.done || topology.saturated ? this.#waitForAsync() : this.#waitForData());
    }
    topology.propagate();
    checkpointer.ended = true;
    await checkpointer.maybeCommit(true);
    return this.#summary();
  }

  /** Runs until `stop()`: waits for new records without polling (or, under a test driver, for steps), commits every interval. */
  async runUnbounded(): Promise<RunSummary> {
    const checkpointer = this.#checkpointer!;
    if (this.#driver !== undefined) await this.#runStepped();
    else {
      while (!this.#stopped) {
        const read = await this.#rounds!.round();
        await checkpointer.maybeCommit(false);
        await this.#serveSavepoints();
        if (read === 0 && !this.#stopped) await (this.#topology!.saturated ? this.#waitForAsync() : this.#waitForData());
      }
    }
    checkpointer.closing = true;
    await checkpointer.maybeCommit(true);
    await this.#serveSavepoints();
    return this.#summary();
  }

  /** Serves a test driver's steps, one round (or commit) each, until `stop()`. */
  async #runStepped(): Promise<void> {
    try {
      await this.#steps.serve(() => this.#stopped, () => this.#round(), () => this.#checkpointer!.maybeCommit(true));
    } finally {
      this.#driver?.detach(this);
    }
  }

  /** One round and what follows it; whether anything moved (records read, positions, exchanged input). */
  async #round(): Promise<boolean> {
    const topology = this.#topology!;
    const before = topology.position();
    const read = await this.#rounds!.round();
    await this.#checkpointer!.maybeCommit(false);
    await this.#serveSavepoints();
    return read > 0 || topology.position() !== before || topology.hasPending;
  }

  /**
   * One round of an unbounded run under a test driver: read what is there, process, propagate
   * watermarks, commit if due. Resolves whether anything moved.
   */
  step(): Promise<boolean> {
    return this.#request(false);
  }

  /** Under a test driver: commits now what the rounds so far did. */
  async commit(): Promise<void> {
    await this.#request(true);
  }

  #request(commit: boolean): Promise<boolean> {
    if (this.#driver === undefined) return Promise.reject(new SluiceError('INVALID_ARGUMENT', `app '${this.name}' runs its rounds itself; step() drives apps of a stepping test kit (new TestKit({ stepping: true }))`));
    if (this.#stopped) return Promise.resolve(false);
    return this.#steps.request(commit);
  }

  /**
   * Takes a savepoint after the current round: a checkpoint, kept in its own file with every
   * operator's state, to start this or a changed pipeline from (`fromSavepoint`). Returns its id.
   */
  savepoint(): Promise<string> {
    if (this.#options.dataDir === undefined) return Promise.reject(new SluiceError('INVALID_ARGUMENT', 'savepoints need a dataDir'));
    return new Promise((resolve, reject) => {
      this.#savepoints.push({ resolve, reject });
      this.#wake?.();
    });
  }

  /** Takes the savepoints asked for since the last round (by this process or the control topic). */
  #serveSavepoints(): Promise<void> {
    const waiting = this.#savepoints;
    this.#savepoints = [];
    return this.#checkpointer!.serveSavepoints(waiting);
  }

  /**
   * Asks a running job to finish its round, commit and return, as `stop()`, and a bounded run
   * too, before its end (its checkpoint is not final): the process's tasks move to another
   * process (a rebalance). `interrupted` tells it happened.
   */
  interrupt(): void {
    this.#interrupted = true;
    this.stop();
  }

  get interrupted(): boolean {
    return this.#interrupted;
  }

  /** Asks a running `runUnbounded()` to finish its round, commit and return. */
  stop(): void {
    this.#stopped = true;
    this.#wake?.();
    this.#steps.wake();
  }

  async close(): Promise<void> {
    this.#driver?.detach(this);
    this.#steps.reject(new SluiceError('PIPELINE_FAILED', `app '${this.name}' stopped before the step`));
    for (const w of this.#savepoints) w.reject(new SluiceError('PIPELINE_FAILED', `app '${this.name}' stopped before taking the savepoint`));
    this.#savepoints = [];
    this.#probe?.stopped(); // metrics
    try {
      await this.#checkpointer?.close();
    } finally {
      try {
        await this.#sinks.close();
      } finally {
        await this.#topology?.close();
      }
    }
  }

  /** Wakes the wait between rounds (an async call finished), or makes the next one return at once. */
  #poke(): void {
    if (this.#wake !== undefined) this.#wake();
    else this.#poked = true;
  }

  /** Waits for an async call to finish (or a stop), not for the log: sources are paused or done. */
  async #waitForAsync(): Promise<void> {
    if (this.#poked) {
      this.#poked = false;
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const t0 = performance.now(); // metrics: idle time
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
      // Processing time still moves (retry backoffs, timeouts fire on their own timers): look again now and then.
      timer = setTimeout(resolve, Math.min(200, this.#options.checkpointIntervalMs));
    });
    clearTimeout(timer);
    this.#wake = undefined;
    this.#probe?.idle(t0); // metrics
  }

  async #waitForData(): Promise<void> {
    if (this.#poked) {
      this.#poked = false;
      return;
    }
    const stop = new Promise<void>((resolve) => {
      this.#wake = resolve;
    });
    await this.#rounds!.waitForData(Math.min(200, this.#options.checkpointIntervalMs), stop);
    this.#wake = undefined;
  }

  #summary(): RunSummary {
    return { records: this.#rounds!.records, deadLetters: this.#errors.count, late: this.#topology!.late() - this.#lateBefore, written: this.#written };
  }
}
