/**
 * The job's topology: from the physical plan, a StageRuntime per stage with a task per
 * partition, the exchanges between them, the frontiers over each stage's upstream partitions,
 * and the source partitions positioned at the group's committed offsets.
 */
import type { LogBackend, OutgoingRecord, TopicPartitionOffset } from '../backend/index.ts';
import { stateShape } from '../checkpoint/index.ts';
import { type Codec, jsonCodec, SluiceError } from '../core/index.ts';
import type { RecordErrorHandler } from '../operators/index.ts';
import type { PhysicalPlan, Stage } from '../plan/index.ts';
import type { StateBackend } from '../state/index.ts';
import { type ExchangeFactory, inProcessExchanges } from './exchange.ts';
import { repartitionSources, repartitionTopic } from './repartition.ts';
import { buildOperator, type OperatorEnv } from './operators.ts';
import { SourcePartition } from './source.ts';
import { StageRuntime } from './stage.ts';
import { Task } from './task.ts';

export interface TopologyOptions {
  /** The app's name: its consumer group. */
  name: string;
  plan: PhysicalPlan;
  backend: LogBackend;
  state: StateBackend;
  /** What operators are built with, less their tables (scoped here by operator and task). */
  env: Omit<OperatorEnv, 'table'>;
  onError: RecordErrorHandler;
  /** The dead-letter topic, created with the sink topics. */
  deadLetterTopic: string;
  clock: () => number;
  codec?: Codec;
  exchanges?: ExchangeFactory;
  /** The job's output of the current checkpoint, for exchanges that write into it. */
  output?: (topic: string, record: OutgoingRecord) => void;
  /**
   * Scale-out: the tasks (partitions) this process runs; the others exist but read nothing and
   * commit nothing. Keyed stages then read their repartition topics (repartition.ts) as sources.
   */
  assigned?: ReadonlySet<number>;
}

export class Topology {
  readonly plan: PhysicalPlan;
  readonly stages: readonly StageRuntime[];
  /** Tasks with processing-time operators, advanced by the clock every round. */
  readonly timed: readonly Task[];
  /** Per source topic, the partitions the group had committed when the job opened. */
  readonly committed: ReadonlyMap<string, ReadonlyMap<number, number>>;

  /** Scale-out: the partitions this process runs (undefined: all). */
  readonly assigned: ReadonlySet<number> | undefined;

  private constructor(plan: PhysicalPlan, stages: StageRuntime[], timed: Task[], committed: Map<string, Map<number, number>>, assigned: ReadonlySet<number> | undefined) {
    this.plan = plan;
    this.stages = stages;
    this.timed = timed;
    this.assigned = assigned;
    // Only the assigned partitions' offsets are this process's to judge (lost state, older checkpoints).
    this.committed = assigned === undefined ? committed : new Map([...committed].map(([topic, offsets]) => [topic, new Map([...offsets].filter(([p]) => assigned.has(p)))]));
  }

  /** Creates sink topics, tasks and exchanges, and positions every source at the group's committed offset. */
  static async open(options: TopologyOptions): Promise<Topology> {
    const { plan, backend } = options;
    const counts = new Map<number, number>();
    for (const stage of plan.stages) {
      if (stage.entry.kind !== 'source') continue;
      // A source outside the log is read as one partition.
      if (stage.entry.connector !== undefined) {
        counts.set(stage.id, 1);
        continue;
      }
      try {
        counts.set(stage.id, await backend.partitions(stage.entry.topic));
      } catch (cause) {
        throw new SluiceError('TOPIC_NOT_FOUND', `source topic '${stage.entry.topic}' does not exist; create it (sluice topic create ${stage.entry.topic} --partitions 3) or produce to it first`, { cause });
      }
    }
    const logCounts = plan.stages.filter((stage) => stage.entry.kind === 'source' && stage.entry.connector === undefined).map((stage) => counts.get(stage.id)!);
    const keyPartitions = Math.max(1, ...logCounts);
    for (const topic of plan.sinkTopics) await backend.ensureTopic(topic, keyPartitions, plan.changelogTopics?.includes(topic) ? { compact: true } : {});
    await backend.ensureTopic(options.deadLetterTopic, 1);
    const timed: Task[] = [];
    const committed = new Map<string, Map<number, number>>();
    const stages: StageRuntime[] = [];
    for (const stage of plan.stages) {
      const n = counts.get(stage.id) ?? keyPartitions;
      const tasks: Task[] = [];
      for (let i = 0; i < n; i++) {
        // Tables are scoped by operator name and task: a restarted or changed pipeline finds them.
        const ops = stage.ops.map((op) => buildOperator(op.node, { ...options.env, table: (kind: string) => options.state.table(`${op.node.name}/${kind}/${i}`) }));
        const task = new Task(stage, i, ops, options.onError);
        if (ops.some((op) => op.onProcessingTime)) timed.push(task);
        tasks.push(task);
      }
      stages.push(new StageRuntime(stage, tasks, await openSources(options, stage, n, committed)));
    }
    for (const stage of plan.stages) connect(options, stage, stages);
    for (const stage of stages) {
      // A keyed stage reading a repartition topic gets its watermarks from the markers in it.
      if (stage.isSource) continue;
      for (const upstream of stage.plan.upstream) {
        const entry = plan.stages[upstream].entry;
        const idleTimeoutMs = entry.kind === 'source' ? entry.time.watermark.idleTimeoutMs : undefined;
        stage.readFrom(stages[upstream], idleTimeoutMs === undefined ? {} : { idleTimeoutMs, clock: options.clock });
      }
    }
    return new Topology(plan, stages, timed, committed, options.assigned);
  }

  /** Every source partition this process runs, stage by stage. */
  *sources(): Iterable<{ stage: StageRuntime; source: SourcePartition }> {
    const assigned = this.assigned;
    for (const stage of this.stages) for (const source of stage.sources) if (assigned === undefined || assigned.has(source.partition)) yield { stage, source };
  }

  /** Sum of the read positions, to tell whether a round moved. */
  position(): number {
    let sum = 0;
    for (const { source } of this.sources()) sum += source.offset;
    return sum;
  }

  /** Every log source partition's next offset, for the commit (a reader's position is in the checkpoint instead). */
  offsets(): TopicPartitionOffset[] {
    const offsets: TopicPartitionOffset[] = [];
    for (const { source } of this.sources()) if (source.reader === undefined) offsets.push({ topic: source.topic, partition: source.partition, offset: source.offset });
    return offsets;
  }

  /** Closes the operators (an async operator's timers) and the readers of sources outside the log. */
  async close(): Promise<void> {
    for (const stage of this.stages) for (const task of stage.tasks) for (const op of task.operators()) op.close?.();
    for (const { source } of this.sources()) await source.reader?.close();
  }

  /** Drains exchanges and moves watermarks through the stages, in order. */
  propagate(): void {
    for (const stage of this.stages) stage.advance();
  }

  /** Whether some task holds exchanged input not processed yet. */
  get hasPending(): boolean {
    return this.stages.some((stage) => stage.hasPending);
  }

  /** Records async operators took in and have not emitted yet. */
  get asyncPending(): number {
    let n = 0;
    for (const stage of this.stages) for (const task of stage.tasks) for (const op of task.operators()) n += op.pending?.() ?? 0;
    return n;
  }

  /** Some operator wants no more input now (a full async queue): sources pause. */
  get saturated(): boolean {
    for (const stage of this.stages) for (const task of stage.tasks) for (const op of task.operators()) if (op.saturated?.() === true) return true;
    return false;
  }

  /** Records dropped as late, over every stage. */
  late(): number {
    let late = 0;
    for (const stage of this.stages) late += stage.late();
    return late;
  }

  /** Whether any operator keeps state a restart must find (windows, rolling aggregates, process functions). */
  get stateful(): boolean {
    return this.plan.stages.some((stage) => stage.ops.some((op) => {
      const shape = stateShape(op.node);
      return shape !== null && shape !== 'source';
    }));
  }
}

function connect(options: TopologyOptions, stage: Stage, stages: StageRuntime[]): void {
  stage.ops.forEach((op, index) => {
    for (const target of op.exchanges) {
      const entry = options.plan.stages[target].entry;
      if (entry.kind !== 'keyBy') continue;
      for (const task of stages[stage.id].tasks) {
        const factory = options.exchanges ?? inProcessExchanges;
        const output = options.output === undefined ? {} : { output: options.output };
        task.connect(index, factory({ name: entry.name, keyFn: entry.fn, targets: [...stages[target].tasks], onError: options.onError, fromStage: stage.id, task: task.index, ...output }));
      }
    }
  });
}

async function openSources(options: TopologyOptions, stage: Stage, n: number, committedOut: Map<string, Map<number, number>>): Promise<SourcePartition[]> {
  const entry = stage.entry;
  if (entry.kind !== 'source') return options.assigned === undefined ? [] : openRepartitionSources(options, stage, n, committedOut);
  if (entry.connector !== undefined) {
    const source = new SourcePartition(entry.topic, 0, 0, entry.time, entry.codec ?? jsonCodec, entry.name, options.onError);
    const warn = (message: string) => process.stderr.write(`sluice: ${message}\n`);
    try {
      source.reader = await entry.connector.open({ app: options.name, name: entry.name, clock: options.clock, warn });
    } catch (cause) {
      if (cause instanceof SluiceError) throw cause;
      throw new SluiceError('SOURCE_FAILED', `source '${entry.name}' (${entry.connector.describe}) failed to open: ${(cause as Error).message}`, { cause, operator: entry.name });
    }
    return [source];
  }
  const { backend } = options;
  const start = await backend.startOffsets(entry.topic);
  const committed = await backend.committedOffsets(options.name, entry.topic);
  committedOut.set(entry.topic, committed);
  const sources: SourcePartition[] = [];
  for (let p = 0; p < n; p++) {
    const offset = Math.max(committed.get(p) ?? start[p], start[p]);
    sources.push(new SourcePartition(entry.topic, p, offset, entry.time, entry.codec ?? options.codec ?? jsonCodec, entry.name, options.onError, entry.changelog === true));
  }
  return sources;
}

/** Scale-out: a keyed stage's task p reads partition p of its repartition topic, from the group's committed offset. */
async function openRepartitionSources(options: TopologyOptions, stage: Stage, n: number, committedOut: Map<string, Map<number, number>>): Promise<SourcePartition[]> {
  const { backend, plan } = options;
  const topic = repartitionTopic(options.name, stage.entry.name);
  // Records carry event times, which Kafka's time retention would judge: the topic keeps them (and is reset with the app).
  await backend.ensureTopic(topic, n, { keepForever: true });
  const start = await backend.startOffsets(topic);
  const committed = await backend.committedOffsets(options.name, topic);
  committedOut.set(topic, committed);
  // A silent upstream task stops holding the watermark back after its source's idle timeout.
  const idle = stage.upstream.map((u) => plan.stages[u].entry).map((e) => (e.kind === 'source' ? e.time.watermark.idleTimeoutMs : undefined));
  const idleTimeoutMs = idle.every((t) => t !== undefined) ? Math.max(...(idle as number[])) : undefined;
  return repartitionSources(options.name, stage, n, committed, start, idleTimeoutMs === undefined ? {} : { idleTimeoutMs, clock: options.clock }, options.onError);
}
