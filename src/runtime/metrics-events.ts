/**
 * Metrics events: the channel names and event shapes the runtime publishes on
 * `node:diagnostics_channel`. The dashboard, `/metrics` and any user code subscribe here;
 * nothing reads operator internals. Publishing is guarded by `hasSubscribers`, so a process
 * with no subscriber pays one boolean check per hook.
 *
 * Counters in events are cumulative since the job started (a subscriber that joins late
 * still gets totals); latency samples are raw values, each published once.
 */
import { channel } from 'node:diagnostics_channel';
import type { WindowSpec } from '../time/index.ts';

/** `sluice:app`: a `Sluice` app was constructed (the registry `sluice run --ui` reads). */
export const appChannel = channel('sluice:app');
/** `sluice:job`: a job started (with its plan) or stopped. */
export const jobChannel = channel('sluice:job');
/** `sluice:round`: progress, at most every `ROUND_EVENT_INTERVAL_MS` while records flow. */
export const roundChannel = channel('sluice:round');
/** `sluice:commit`: a checkpoint (output and offsets together) committed or failed. */
export const commitChannel = channel('sluice:commit');

/** Round events are throttled to this interval: progress, not a per-batch trace. */
export const ROUND_EVENT_INTERVAL_MS = 250;
/** State sizes are measured this often (they read a little of every table). */
export const STATE_MEASURE_INTERVAL_MS = 2000;

/** What an app looks like to a subscriber of `sluice:app` (structural, so runtime never imports the app class). */
export interface AppEvent {
  name: string;
  dataDir: string;
  /** The physical plan as text (`app.explain()`). */
  explain(): string;
  /** Names of its queryable stores (`{ queryable: true }`, `.materialize(name)`). */
  stores?(): string[];
  /** A queryable store (`app.store(name)`): answers while the app runs, else throws STORE_UNAVAILABLE. */
  store?(name: string): { get(key: unknown, at?: number): unknown[]; all(): unknown[] };
  /** Names of its tables (`app.table(name)`). */
  tables?(): string[];
  /** A table (`app.table(name)`): answers while the app runs, else throws STORE_UNAVAILABLE. */
  table?(name: string): {
    readonly versioned: boolean;
    get(key: any): unknown;
    asOf(key: any, time: number): unknown;
    scan(options?: { prefix?: string; limit?: number }): { key: unknown; value: unknown }[];
  };
}

export interface PlanOperator {
  /** Index in the stage's chain. */
  index: number;
  name: string;
  kind: string;
  /** One-line description (`to 'clicks'`, `window tumbling 10000ms count`). */
  detail: string;
  /** Operators of the same stage reading this one's output (main and side). */
  next: number[];
  /** Stages this operator feeds through an exchange (keyBy). */
  exchanges: number[];
  /** Window operators: their window, so a dashboard can tell when the next one fires. */
  window?: WindowSpec;
  /** Window operators: their allowed lateness, ms (state stays that long after a window's end). */
  latenessMs?: number;
}

export interface PlanStage {
  id: number;
  /** The source topic, for stages that read one. */
  topic?: string;
  upstream: number[];
  tasks: number;
  ops: PlanOperator[];
}

export interface JobStartEvent {
  type: 'start';
  job: string;
  time: number;
  guarantee: string;
  checkpointIntervalMs: number;
  stages: PlanStage[];
  /** The plan as text, as `app.explain()` prints it. */
  explain: string;
}

export interface JobStopEvent {
  type: 'stop';
  job: string;
  time: number;
  error?: string;
}

export type JobEvent = JobStartEvent | JobStopEvent;

export interface SourceProgress {
  topic: string;
  partition: number;
  /** Log records read since the job started (data, watermark records and tombstones). */
  read: number;
  /** The next offset to read. */
  offset: number;
  /** The partition's watermark (its generator's), epoch ms; -Infinity before any record. */
  watermark: number;
  /** Largest event time seen, epoch ms. */
  maxEventTime: number;
  /**
   * Backpressure: milliseconds this partition had records waiting while the pipeline was busy
   * elsewhere, from the end of a fetch that came back full (as many records as asked for, so
   * more were there) to the start of the next fetch of the partition. Over wall time it is
   * `sluice_backpressure_ratio`. A fetch cut short by the log's byte limit (records over 1 KB)
   * is not counted, so the ratio errs low, never high.
   */
  waitedMs: number;
  /** Milliseconds spent decoding this partition's records into elements (the source's own cost). */
  decodeMs: number;
}

/** One operator's keyed state, summed over its tasks (state backend `sizes()`). */
export interface OperatorState {
  operator: string;
  entries: number;
  /** lmdb: exact bytes on disk at the last checkpoint; memory: estimated serialized bytes (see state/backend.ts). */
  bytes: number;
}

/** Where the job's loop spent its time, cumulative since the job started. */
export interface LoopTime {
  /** Wall time since the job started, ms. */
  wallMs: number;
  /** Time waiting for input (nothing to read) or for async calls, ms; the rest is work. */
  idleMs: number;
  /** Work time, ms: wall minus idle, summed over the threads of a run on several. */
  busyMs: number;
  /** Rounds run (one batch per source partition each). */
  rounds: number;
  /** A run on several threads: each thread's own loop time (thread-metrics.ts merges them). */
  threads?: { busyMs: number; wallMs: number }[];
}

/** Each thread's loop time: a run on one thread is one thread, its whole loop. */
export function loopThreads(loop: LoopTime): { busyMs: number; wallMs: number }[] {
  return loop.threads ?? [{ busyMs: loop.busyMs, wallMs: loop.wallMs }];
}

export interface OperatorProgress {
  stage: number;
  index: number;
  name: string;
  /** Records handed to the operator, summed over the stage's tasks. */
  in: number;
  /** Records the operator emitted (main and side outputs). */
  out: number;
  /** Milliseconds spent inside the operator (process and watermark firing), summed over tasks. */
  busyMs: number;
  /** Pattern operators: partial matches held and records buffered (waiting, or held by partial matches), summed over tasks. */
  partialMatches?: number;
  bufferedEvents?: number;
}

export interface StageWatermark {
  stage: number;
  /** The stage's input watermark: minimum over its active input partitions. */
  watermark: number;
  /** Input partitions (upstream stage, partition) with their watermark and idleness. */
  inputs: { stage: number; partition: number; watermark: number; idle: boolean }[];
}

export interface RoundEvent {
  job: string;
  time: number;
  sources: SourceProgress[];
  operators: OperatorProgress[];
  stages: StageWatermark[];
  /** Records late for every window they belong to, over all window operators. */
  lateRecords: number;
  deadLetters: number;
  /** Records written to sink topics. */
  written: number;
  loop: LoopTime;
  /** Keyed state per operator, measured at most every `STATE_MEASURE_INTERVAL_MS` (the last measurement). */
  state: OperatorState[];
  /**
   * Processing latency samples, ms: when a fetched batch finished its round (results in
   * memory, not yet committed), minus the oldest record's log timestamp (its ingest time).
   */
  processedLatencyMs: number[];
}

export interface CommitEvent {
  job: string;
  time: number;
  /** From the barrier until the commit ended, ms (a checkpoint written in the background overlaps processing). */
  durationMs: number;
  /** Of that, the time the job's loop spent on it or waited for it, ms: the checkpoint's cost to processing. */
  heldMs: number;
  ok: boolean;
  error?: string;
  /** Records written per sink topic in this commit (dead letters under `<name>.dlq`). */
  written: Record<string, number>;
  /**
   * End-to-end latency samples, ms: when this commit made the output visible, minus the log
   * timestamp (ingest time) of the oldest record of each batch it covers.
   */
  committedLatencyMs: number[];
  /** Consumer lag after the commit: the log's end minus the committed offset, per source partition. */
  lag: { topic: string; partition: number; records: number }[];
  /** The committed output itself (shared, not copied; subscribers must not change it). */
  output: ReadonlyMap<string, readonly { key: Uint8Array | null; value: Uint8Array | null; timestamp: number }[]>;
}
