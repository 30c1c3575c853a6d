/**
 * A running pipeline: the tasks of every stage, the source partitions feeding them, the
 * exchanges between them, watermark propagation, and the commit step.
 *
 * One round reads one batch from every source partition (LogBackend.fetch), runs each batch
 * through its task, then walks the stages in order: keyed tasks drain what the exchanges
 * delivered, then take their new watermark (the minimum over their input partitions, from a
 * WatermarkTracker per upstream stage). Output and offsets commit together every
 * checkpoint interval and at the end.
 */
import type { LogicalGraph } from '../api/index.ts';
import type { LogBackend, OutgoingRecord, TopicPartitionOffset } from '../backend/index.ts';
import { type Codec, jsonCodec, SluiceError } from '../core/index.ts';
import { type PhysicalPlan, physicalPlan, type Stage } from '../plan/index.ts';
import { WatermarkTracker } from '../time/index.ts';
import {
  type CheckpointStore,
  type CommitStep,
  type JobSnapshot,
  LmdbCheckpoints,
  openCommitStep,
  readSavepoint,
  stateShape,
  TopicCheckpoints,
  writeSavepoint,
} from '../checkpoint/index.ts';
import { ControlChannel } from './control.ts';
import { type JobParts, operatorNames, restoreCheckpoint, restoreSavepoint, type Upstream } from './restore.ts';
import { MemoryStateBackend, type StateBackend } from '../state/index.ts';
import type { LmdbStateBackend } from '../state/lmdb-backend.ts';
import { ErrorRouter } from './errors.ts';
import { JobProbe } from './metrics.ts';
import { type ExchangeFactory, inProcessExchanges } from './exchange.ts';
import { buildOperator } from './operators.ts';
import { OutputBuffer } from './output-buffer.ts';
import { SourcePartition } from './source.ts';
import { StoreRegistry } from './stores.ts';
import { Task } from './task.ts';

export interface JobOptions {
  name: string;
  graph: LogicalGraph;
  backend: LogBackend;
  guarantee: 'exactly-once' | 'at-least-once' | 'at-most-once';
  onError: 'dead-letter' | 'fail';
  checkpointIntervalMs: number;
  /** Processing-time clock, epoch ms (a manual clock in tests). */
  clock: () => number;
  /** Records per fetch (default 1000). Results never depend on it. */
  batchSize?: number;
  print?: (line: string) => void;
  codec?: Codec;
  /** How keyBy hands records to the task owning their key (default in process). */
  exchanges?: ExchangeFactory;
  /** How output and offsets commit (default by `guarantee`, on the backend's writers). */
  openCommit?: (backend: LogBackend, group: string, guarantee: JobOptions['guarantee']) => Promise<CommitStep>;
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
}

/** Changed state entries that make the job checkpoint before its interval is up (bounds lmdb's write-back). */
const MAX_PENDING_STATE = 200_000;

export interface RunSummary {
  /** Source records read. */
  records: number;
  /** Records sent to the dead-letter topic. */
  deadLetters: number;
  /** Records written to sink topics (dead letters excluded). */
  written: number;
}


export class Job {
  readonly plan: PhysicalPlan;
  /** Named windowed aggregates, queryable while the job runs. */
  readonly stores = new StoreRegistry();
  readonly #options: JobOptions;
  readonly #backend: LogBackend;
  readonly #buffer = new OutputBuffer();
  readonly #errors: ErrorRouter;
  readonly #tasks: Task[][] = [];
  readonly #sources: SourcePartition[][] = [];
  /** Per keyed stage, one tracker per upstream stage. */
  readonly #upstreams: Upstream[][] = [];
  /** The watermark each task last forwarded through its exchanges. */
  readonly #leaving: number[][] = [];
  readonly #state: StateBackend;
  /** The same backend when it is lmdb (checkpoints, clearing, savepoint tables), else undefined. */
  readonly #lmdb: LmdbStateBackend | undefined;
  #checkpoints: CheckpointStore | undefined;
  #checkpointId = 0;
  #control: ControlChannel | undefined;
  /** metrics: at-least-once output written ahead of the checkpoint, reported with it. */
  readonly #sentEarly = new Map<string, OutgoingRecord[]>();
  /** Savepoints asked for (app.savepoint() or the control topic), taken after the current round. */
  #savepointRequests: { resolve: (id: string) => void; reject: (error: unknown) => void }[] = [];
  #lastCommit = 0;
  #committedPosition = -1;
  #records = 0;
  #written = 0;
  #stopped = false;
  /** A bounded run fired everything at watermark +Infinity: its last checkpoint is final. */
  #ended = false;
  #wake: (() => void) | undefined;
  readonly #timed: Task[] = [];
  /** metrics: publishes progress on diagnostics channels when someone subscribes */
  readonly #probe: JobProbe;

  constructor(options: JobOptions) {
    this.#options = options;
    this.#backend = options.backend;
    this.#state = options.state ?? new MemoryStateBackend();
    this.#lmdb = this.#state.kind === 'lmdb' ? (this.#state as LmdbStateBackend) : undefined;
    this.plan = physicalPlan(options.graph);
    this.#errors = new ErrorRouter(options.name, options.onError, this.#buffer);
    this.#probe = new JobProbe(
      { name: options.name, plan: this.plan, tasks: this.#tasks, sources: this.#sources, upstreams: this.#upstreams, leaving: this.#leaving, deadLetters: () => this.#errors.count, written: () => this.#written },
      options.clock,
    );
  }

  /** Creates topics, tasks and exchanges, and positions every source at the group's committed offset. */
  async open(): Promise<void> {
    const { backend } = this;
    const counts = new Map<number, number>();
    for (const stage of this.plan.stages) {
      if (stage.entry.kind !== 'source') continue;
      try {
        counts.set(stage.id, await backend.partitions(stage.entry.topic));
      } catch (cause) {
        throw new SluiceError('TOPIC_NOT_FOUND', `source topic '${stage.entry.topic}' does not exist; create it (sluice topic create ${stage.entry.topic} --partitions 3) or produce to it first`, { cause });
      }
    }
    const keyPartitions = Math.max(1, ...counts.values());
    for (const topic of this.plan.sinkTopics) await backend.ensureTopic(topic, keyPartitions);
    await backend.ensureTopic(this.#errors.topic, 1);
    const env = { stores: this.stores, sink: this.#wrapSink(), onError: this.#errors.handler, clock: this.#options.clock, print: this.#options.print ?? ((line: string) => process.stdout.write(`${line}\n`)) };
    for (const stage of this.plan.stages) {
      const n = counts.get(stage.id) ?? keyPartitions;
      const tasks: Task[] = [];
      for (let i = 0; i < n; i++) {
        // Tables are scoped by operator name and task: a restarted or changed pipeline finds them.
        const ops = stage.ops.map((op) => buildOperator(op.node, { ...env, table: (kind: string) => this.#state.table(`${op.node.name}/${kind}/${i}`) }));
        const task = new Task(stage, i, ops, this.#errors.handler);
        if (ops.some((op) => op.onProcessingTime)) this.#timed.push(task);
        tasks.push(task);
      }
      this.#tasks.push(tasks);
      this.#leaving.push(tasks.map(() => Number.NEGATIVE_INFINITY));
    }
    for (const stage of this.plan.stages) this.#connect(stage);
    for (const stage of this.plan.stages) {
      this.#upstreams.push(stage.upstream.map((u) => this.#tracker(u)));
      this.#sources.push(stage.entry.kind === 'source' ? await this.#openSources(stage, counts.get(stage.id)!) : []);
    }
    const { name, guarantee } = this.#options;
    const warn = this.#options.warn ?? ((message: string) => process.stderr.write(`sluice: ${message}\n`));
    this.#checkpoints = this.#lmdb
      ? await LmdbCheckpoints.open(backend, this.#lmdb, name, guarantee)
      : new TopicCheckpoints(backend, name, await (this.#options.openCommit ?? openCommitStep)(backend, name, guarantee), warn);
    const saved = await this.#checkpoints.load();
    this.#checkpointId = saved?.id ?? 0;
    if (this.#options.fromSavepoint !== undefined) {
      if (this.#options.dataDir === undefined) throw new SluiceError('INVALID_ARGUMENT', 'savepoints need a dataDir');
      const savepoint = readSavepoint(this.#options.dataDir, name, this.#options.fromSavepoint);
      this.#lmdb?.clear();
      restoreSavepoint(this.#parts(), savepoint, this.#options.dropState ?? []);
    } else if (saved && !saved.final) restoreCheckpoint(this.#parts(), saved);
    // A bounded run's last checkpoint fired everything at watermark +Infinity: the next run starts
    // from the committed offsets with empty state (its watermarks would make every record late).
    else this.#lmdb?.clear();
    if (this.#options.dataDir !== undefined) {
      this.#control = new ControlChannel(backend, name);
      await this.#control.open();
    }
    this.#lastCommit = this.#options.clock();
    this.#probe.started(this.#options.guarantee, this.#options.checkpointIntervalMs); // metrics
  }

  get backend(): LogBackend {
    return this.#backend;
  }

  #wrapSink() {
    return {
      append: (topic: string, record: Parameters<OutputBuffer['append']>[1]) => {
        this.#written++;
        this.#buffer.append(topic, record);
      },
    };
  }

  #connect(stage: Stage): void {
    stage.ops.forEach((op, index) => {
      for (const target of op.exchanges) {
        const entry = this.plan.stages[target].entry;
        if (entry.kind !== 'keyBy') continue;
        for (const task of this.#tasks[stage.id]) {
          const factory = this.#options.exchanges ?? inProcessExchanges;
          task.connect(index, factory({ name: entry.name, keyFn: entry.fn, targets: this.#tasks[target], onError: this.#errors.handler }));
        }
      }
    });
  }

  #tracker(upstream: number): Upstream {
    const entry = this.plan.stages[upstream].entry;
    const idleTimeoutMs = entry.kind === 'source' ? entry.time.watermark.idleTimeoutMs : undefined;
    const partitions = this.#tasks[upstream].map((_, i) => i);
    const options = idleTimeoutMs === undefined ? { partitions, clock: this.#options.clock } : { partitions, clock: this.#options.clock, idleTimeoutMs };
    return { stage: upstream, tracker: new WatermarkTracker(options) };
  }

  async #openSources(stage: Stage, n: number): Promise<SourcePartition[]> {
    const entry = stage.entry;
    if (entry.kind !== 'source') return [];
    const start = await this.#backend.startOffsets(entry.topic);
    const committed = await this.#backend.committedOffsets(this.#options.name, entry.topic);
    const sources: SourcePartition[] = [];
    for (let p = 0; p < n; p++) {
      const offset = Math.max(committed.get(p) ?? start[p], start[p]);
      sources.push(new SourcePartition(entry.topic, p, offset, entry.time, entry.codec ?? this.#options.codec ?? jsonCodec, entry.name, this.#errors.handler));
    }
    return sources;
  }

  /** Processes what the sources hold now, fires every window, commits, and returns. */
  async runBounded(): Promise<RunSummary> {
    for (const sources of this.#sources) {
      if (sources.length === 0) continue;
      const ends = await this.#backend.endOffsets(sources[0].topic);
      const stageId = this.#stageOf(sources[0]);
      for (const source of sources) {
        source.end = ends[source.partition];
        // A partition with nothing to read ends at once, so it never holds the watermark back.
        if (source.done) {
          source.generator.end();
          this.#activity(stageId, source.partition, source.generator.watermark);
        }
      }
    }
    for (;;) {
      const before = this.#position();
      const read = await this.#round();
      await this.#maybeCommit(false);
      await this.#serveSavepoints();
      if (this.#sources.every((list) => list.every((s) => s.done))) break;
      // Nothing moved (records below the end not readable yet): wait for the log, never spin.
      if (read === 0 && this.#position() === before) await this.#waitForData();
    }
    this.#propagate();
    this.#ended = true;
    await this.#maybeCommit(true);
    return this.#summary();
  }

  /** Runs until `stop()`: waits for new records without polling, commits every interval. */
  async runUnbounded(): Promise<RunSummary> {
    while (!this.#stopped) {
      const read = await this.#round();
      await this.#maybeCommit(false);
      await this.#serveSavepoints();
      if (read === 0 && !this.#stopped) await this.#waitForData();
    }
    await this.#maybeCommit(true);
    await this.#serveSavepoints();
    return this.#summary();
  }

  /**
   * Takes a savepoint after the current round: a checkpoint, kept in its own file with every
   * operator's state, to start this or a changed pipeline from (`fromSavepoint`). Returns its id.
   */
  savepoint(): Promise<string> {
    if (this.#options.dataDir === undefined) return Promise.reject(new SluiceError('INVALID_ARGUMENT', 'savepoints need a dataDir'));
    return new Promise((resolve, reject) => {
      this.#savepointRequests.push({ resolve, reject });
      this.#wake?.();
    });
  }

  async #serveSavepoints(): Promise<void> {
    const control = (await this.#control?.requests(this.#options.clock())) ?? [];
    if (this.#savepointRequests.length === 0 && control.length === 0) return;
    const waiting = this.#savepointRequests;
    this.#savepointRequests = [];
    let id: string | undefined;
    let failure: unknown;
    try {
      // The savepoint is the state as of a commit: commit what this round did first.
      await this.#maybeCommit(true);
      id = this.#writeSavepoint();
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

  #writeSavepoint(): string {
    const durable = this.#lmdb?.tables() ?? [];
    const snapshot = { ...this.#snapshot(this.#checkpointId), tableScopes: durable.map(([scope]) => scope) };
    return writeSavepoint(this.#options.dataDir!, this.#options.name, snapshot, durable, this.#options.clock());
  }

  /** Asks a running `runUnbounded()` to finish its round, commit and return. */
  stop(): void {
    this.#stopped = true;
    this.#wake?.();
  }

  async close(): Promise<void> {
    for (const w of this.#savepointRequests) w.reject(new SluiceError('PIPELINE_FAILED', `app '${this.#options.name}' stopped before taking the savepoint`));
    this.#savepointRequests = [];
    await this.#control?.close();
    this.#probe.stopped(); // metrics
    await this.#checkpoints?.close();
  }

  async #waitForData(): Promise<void> {
    const waits: Promise<void>[] = [];
    const timeout = Math.min(200, this.#options.checkpointIntervalMs);
    for (const list of this.#sources) for (const s of list) waits.push(this.#backend.waitForData(s.topic, s.partition, s.offset, timeout));
    const stop = new Promise<void>((resolve) => {
      this.#wake = resolve;
    });
    // Any partition with new data (or the stop) ends the wait: waiting for all would add up to a timeout of latency.
    await Promise.race([...waits, stop]);
    this.#wake = undefined;
  }

  /** Reads and processes one batch per source partition; returns the number of records read. */
  async #round(): Promise<number> {
    const batchSize = this.#options.batchSize ?? 1000;
    const pending: SourcePartition[] = [];
    for (const list of this.#sources) for (const s of list) if (!s.done) pending.push(s);
    const fetched = await Promise.all(pending.map((s) => this.#backend.fetch(s.topic, s.partition, s.offset, Math.min(batchSize, s.end - s.offset))));
    let read = 0;
    pending.forEach((source, i) => {
      const { records, nextOffset } = fetched[i];
      const stageId = this.#stageOf(source);
      source.offset = nextOffset;
      read += records.length;
      this.#probe.fetched(source, records.length, records[0]?.timestamp); // metrics
      this.#tasks[stageId][source.partition].push(source.toElements(records));
      if (source.done) source.generator.end();
      if (records.length > 0 || source.done) this.#activity(stageId, source.partition, source.generator.watermark);
    });
    this.#records += read;
    this.#propagate();
    const now = this.#options.clock();
    for (const task of this.#timed) task.advanceProcessingTime(now);
    if (this.#timed.length > 0) this.#propagate();
    this.#probe.round(); // metrics
    return read;
  }

  /** Sum of the read positions, to tell whether a round moved. */
  #position(): number {
    let sum = 0;
    for (const list of this.#sources) for (const s of list) sum += s.offset;
    return sum;
  }

  #stageOf(source: SourcePartition): number {
    return this.#sources.findIndex((list) => list.includes(source));
  }

  /** A source partition produced records: its watermark counts, and it is not idle. */
  #activity(stageId: number, partition: number, watermark: number): void {
    for (const ups of this.#upstreams) for (const u of ups) if (u.stage === stageId) u.tracker.advance(partition, watermark);
  }

  /** Drains exchanges and moves watermarks through the stages, in order. */
  #propagate(): void {
    for (const stage of this.plan.stages) {
      const tasks = this.#tasks[stage.id];
      let input: number;
      if (stage.entry.kind === 'source') {
        for (let i = 0; i < tasks.length; i++) this.#leaving[stage.id][i] = tasks[i].advanceWatermark(this.#sources[stage.id][i].generator.watermark);
        continue;
      }
      input = Number.POSITIVE_INFINITY;
      for (const u of this.#upstreams[stage.id]) {
        if (this.plan.stages[u.stage].entry.kind !== 'source') {
          const leaving = this.#leaving[u.stage];
          for (let i = 0; i < leaving.length; i++) u.tracker.advance(i, leaving[i]);
        }
        input = Math.min(input, u.tracker.current());
      }
      for (let i = 0; i < tasks.length; i++) {
        tasks[i].drain();
        this.#leaving[stage.id][i] = tasks[i].advanceWatermark(input);
      }
    }
  }

  async #maybeCommit(force: boolean): Promise<void> {
    const now = this.#options.clock();
    // at-least-once: output is visible at once, not at the checkpoint (a crash may repeat it).
    if (this.#options.guarantee === 'at-least-once' && this.#buffer.size > 0) {
      const early = this.#buffer.drain();
      await this.#checkpoints!.send(early);
      if (this.#probe.active) appendAll(this.#sentEarly, early); // metrics
    }
    if (!force && now - this.#lastCommit < this.#options.checkpointIntervalMs && this.#buffer.size < 50_000 && this.#state.pending < MAX_PENDING_STATE) return;
    this.#lastCommit = now;
    // Nothing read and nothing to write since the last commit: no empty transaction.
    const position = this.#position();
    if (this.#buffer.size === 0 && position === this.#committedPosition) return;
    const offsets: TopicPartitionOffset[] = [];
    for (const list of this.#sources) for (const s of list) offsets.push({ topic: s.topic, partition: s.partition, offset: s.offset });
    const output = this.#buffer.drain();
    // The state as of these offsets commits with them (and, for exactly-once, in the same transaction).
    const t0 = performance.now(); // metrics: a checkpoint's time includes taking the snapshot
    const snapshot = this.#snapshot(this.#checkpointId + 1);
    if (!this.#probe.active) await this.#checkpoints!.commit(output, offsets, snapshot, now);
    else await this.#timedCommit(output, offsets, snapshot, now, t0); // metrics
    this.#checkpointId = snapshot.id;
    this.#committedPosition = position;
  }

  /** metrics: the commit step timed, and its outcome published with the consumer lag after it. */
  async #timedCommit(output: Map<string, OutgoingRecord[]>, offsets: TopicPartitionOffset[], snapshot: JobSnapshot, now: number, t0: number): Promise<void> {
    // at-least-once output sent ahead of this checkpoint is reported with it.
    const reported = new Map(this.#sentEarly);
    this.#sentEarly.clear();
    appendAll(reported, output);
    try {
      await this.#checkpoints!.commit(output, offsets, snapshot, now);
    } catch (error) {
      await this.#probe.committed(this.#backend, reported, performance.now() - t0, error);
      throw error;
    }
    await this.#probe.committed(this.#backend, reported, performance.now() - t0);
  }

  #snapshot(id: number): JobSnapshot {
    return {
      version: 1,
      id,
      final: this.#ended,
      shape: operatorNames(this.plan),
      stateShapes: this.plan.stages.map((stage) => stage.ops.map((op) => stateShape(op.node))),
      tasks: this.#tasks.map((tasks) => tasks.map((task) => task.snapshot())),
      sources: this.#sources.map((list) => list.map((s) => ({ offset: s.offset, generator: s.generator.snapshot() }))),
      leaving: this.#leaving.map((list) => [...list]),
    };
  }

  #parts(): JobParts {
    return { name: this.#options.name, plan: this.plan, tasks: this.#tasks, sources: this.#sources, upstreams: this.#upstreams, leaving: this.#leaving, state: this.#state };
  }

  #summary(): RunSummary {
    return { records: this.#records, deadLetters: this.#errors.count, written: this.#written };
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
