/**
 * A job's measured profile over a stretch of time: what the planner (server/planner.ts) turns
 * into capacity figures. It is the difference of two round events (their counters are
 * cumulative) plus the commits in between, so it costs nothing beyond the metrics events.
 * The dashboard's collector keeps one over its last seconds; a running app without a dashboard
 * builds one on request (`sluice plan APP`, through the control topic) by listening for a while.
 */
import { availableParallelism } from 'node:os';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { type CommitEvent, commitChannel, type OperatorState, type PlanStage, type RoundEvent, roundChannel } from './metrics-events.ts';

export interface OperatorCost {
  stage: number;
  index: number;
  name: string;
  kind: string;
  /** Records handed to the operator in the window, summed over its tasks. */
  in: number;
  /** Milliseconds inside the operator in the window, summed over its tasks. */
  busyMs: number;
}

export interface Profile {
  job: string;
  stages: PlanStage[];
  guarantee: string;
  checkpointIntervalMs: number;
  /** Wall time the profile covers, ms. */
  sampleMs: number;
  /** Cores of the machine (os.availableParallelism()). */
  cores: number;
  /** Threads running the job's tasks (a run on several threads is seen merged, runtime/thread-metrics.ts). */
  threads: number;
  /** Input records read from the app's source topics in the window. */
  records: number;
  /** The loop's working time (wall time minus waiting for input), ms. */
  busyMs: number;
  idleMs: number;
  rounds: number;
  /** Decoding source records, ms. */
  decodeMs: number;
  /** Commit steps (snapshot, output, offsets) the loop spent or waited on, ms, and how many. */
  commitMs: number;
  commits: number;
  operators: OperatorCost[];
  /** Per source partition (each is one task of its stage): records read and backpressure wait, in the window. */
  sources: { topic: string; partition: number; read: number; waitedMs: number }[];
  /** Keyed state per operator at the end of the window. */
  state: OperatorState[];
  /** Processing latency (ingest to end of round) p50 over the window, ms; null without samples. */
  processedP50Ms: number | null;
  /** Records waiting in the source topics after the last commit (consumer lag). */
  lag: number;
}

/** Builds a profile from the round and commit events of one job it is given. */
export class ProfileWindow {
  readonly #job: string;
  readonly #stages: PlanStage[];
  readonly #settings: { guarantee: string; checkpointIntervalMs: number };
  #first: RoundEvent | undefined;
  #last: RoundEvent | undefined;
  #commitMs = 0;
  #commits = 0;
  #lag = 0;
  #latencies: number[] = [];

  constructor(job: string, stages: PlanStage[], settings: { guarantee: string; checkpointIntervalMs: number }) {
    this.#job = job;
    this.#stages = stages;
    this.#settings = settings;
  }

  round(e: RoundEvent): void {
    if (e.job !== this.#job) return;
    // Samples of the first event belong to before the window.
    if (this.#first !== undefined) for (const ms of e.processedLatencyMs) this.#latencies.push(ms);
    this.#first ??= e;
    this.#last = e;
  }

  commit(e: Pick<CommitEvent, 'job' | 'time' | 'heldMs' | 'ok' | 'lag'>): void {
    if (e.job !== this.#job || this.#first === undefined) return;
    // What the checkpoint cost the loop inside the window: not a background write's wall time,
    // nor the part of a commit that began before the window.
    this.#commitMs += Math.max(0, Math.min(e.heldMs, e.time - this.#first.time));
    this.#commits++;
    if (e.ok) this.#lag = e.lag.reduce((a, l) => a + l.records, 0);
  }

  /** The profile between the first and the last round event seen; undefined before two events. */
  profile(): Profile | undefined {
    const first = this.#first;
    const last = this.#last;
    if (first === undefined || last === undefined || first === last) return undefined;
    const inputTopics = new Set(this.#stages.flatMap((s) => (s.topic === undefined ? [] : [s.topic])));
    const sources = last.sources.map((s) => {
      const before = first.sources.find((b) => b.topic === s.topic && b.partition === s.partition);
      return { topic: s.topic, partition: s.partition, read: s.read - (before?.read ?? 0), waitedMs: s.waitedMs - (before?.waitedMs ?? 0), decodeMs: s.decodeMs - (before?.decodeMs ?? 0) };
    });
    const operators = last.operators.map((op): OperatorCost => {
      const before = first.operators.find((b) => b.stage === op.stage && b.index === op.index);
      const kind = this.#stages[op.stage]?.ops[op.index]?.kind ?? 'unknown';
      return { stage: op.stage, index: op.index, name: op.name, kind, in: op.in - (before?.in ?? 0), busyMs: op.busyMs - (before?.busyMs ?? 0) };
    });
    const wallMs = last.loop.wallMs - first.loop.wallMs;
    const idleMs = last.loop.idleMs - first.loop.idleMs;
    const sorted = [...this.#latencies].sort((a, b) => a - b);
    return {
      job: this.#job,
      stages: this.#stages,
      ...this.#settings,
      sampleMs: wallMs,
      cores: availableParallelism(),
      threads: last.loop.threads?.length ?? 1,
      records: sources.filter((s) => inputTopics.has(s.topic)).reduce((a, s) => a + s.read, 0),
      busyMs: Math.max(0, last.loop.busyMs - first.loop.busyMs),
      idleMs,
      rounds: last.loop.rounds - first.loop.rounds,
      decodeMs: sources.reduce((a, s) => a + s.decodeMs, 0),
      commitMs: this.#commitMs,
      commits: this.#commits,
      operators,
      sources: sources.map(({ topic, partition, read, waitedMs }) => ({ topic, partition, read, waitedMs })),
      state: last.state,
      processedP50Ms: sorted.length === 0 ? null : sorted[Math.ceil(sorted.length / 2) - 1],
      lag: this.#lag,
    };
  }
}

/**
 * Listens to the job's metrics events for `sampleMs` and resolves with its profile (undefined
 * when fewer than two progress events came: the job ran no rounds meanwhile).
 */
export function sampleProfile(job: string, stages: PlanStage[], settings: { guarantee: string; checkpointIntervalMs: number }, sampleMs: number): Promise<Profile | undefined> {
  const window = new ProfileWindow(job, stages, settings);
  const onRound = (m: unknown) => window.round(m as RoundEvent);
  const onCommit = (m: unknown) => window.commit(m as CommitEvent);
  subscribe(roundChannel.name as string, onRound);
  subscribe(commitChannel.name as string, onCommit);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      unsubscribe(roundChannel.name as string, onRound);
      unsubscribe(commitChannel.name as string, onCommit);
      resolve(window.profile());
    }, sampleMs);
    timer.unref();
  });
}
