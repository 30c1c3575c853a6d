/**
 * The job's probe: turns the job's own counters into the events of `metrics-events.ts`.
 * The job calls it at a few points (start, each fetched batch, each round, each wait, each
 * commit); every call but the wait's returns at once when nobody subscribes. Nothing here
 * runs per record.
 */
import type { LogBackend, OutgoingRecord } from '../backend/index.ts';
import { explainPlan, type PhysicalPlan } from '../plan/index.ts';
import {
  type CommitEvent,
  commitChannel,
  type JobEvent,
  jobChannel,
  type OperatorProgress,
  type OperatorState,
  type PlanStage,
  ROUND_EVENT_INTERVAL_MS,
  type RoundEvent,
  roundChannel,
  STATE_MEASURE_INTERVAL_MS,
  type StageWatermark,
} from './metrics-events.ts';
import type { TableSize } from '../state/index.ts';
import type { ControlChannel, ProfileRequest } from './control.ts';
import { type Profile, sampleProfile } from './profile.ts';
import type { SourcePartition } from './source.ts';
import type { StageRuntime } from './stage.ts';

/** What the probe reads of a job; the job hands over its own structures, nothing is copied. */
export interface ProbeView {
  name: string;
  plan: PhysicalPlan;
  stages: readonly StageRuntime[];
  deadLetters(): number;
  written(): number;
  /** The state backend's table sizes (called at most every `STATE_MEASURE_INTERVAL_MS`). */
  stateSizes(): TableSize[];
  /** Who measures for a profile request (default this job); `null`: another thread answers it. */
  profiler?: Profiler | null;
}

/** Measures an app for `sampleMs` (a run on several threads: the main thread, over every thread). */
export type Profiler = (sampleMs: number) => Promise<Profile | undefined>;

/** Per source partition: what the probe counted of it. */
interface SourceCounts {
  read: number;
  waitedMs: number;
  decodeMs: number;
  /** performance.now() at the end of a full fetch (records were left waiting), else -1. */
  waitingSince: number;
}

export class JobProbe {
  readonly #view: ProbeView;
  readonly #clock: () => number;
  readonly #perSource = new Map<SourcePartition, SourceCounts>();
  /** performance.now() when the job started, and time spent waiting for input since. */
  #startedAt = performance.now();
  #idleMs = 0;
  #rounds = 0;
  /** performance.now() when the current round's fetches started, and ended (-1: not timed). */
  #fetchStart = -1;
  #fetchEnd = -1;
  #state: OperatorState[] = [];
  #settings = { guarantee: 'exactly-once', checkpointIntervalMs: 1000 };
  #stateMeasuredAt = Number.NEGATIVE_INFINITY;
  /** Ingest time of the oldest record of each batch fetched this round / since the last commit. */
  #roundBatches: number[] = [];
  #commitBatches: number[] = [];
  #processed: number[] = [];
  #lastRoundEvent = 0;

  constructor(view: ProbeView, clock: () => number) {
    this.#view = view;
    this.#clock = clock;
  }

  started(guarantee: string, checkpointIntervalMs: number): void {
    this.#startedAt = performance.now();
    this.#settings = { guarantee, checkpointIntervalMs };
    if (!jobChannel.hasSubscribers) return;
    const { plan, stages, name } = this.#view;
    const event: JobEvent = { type: 'start', job: name, time: this.#clock(), guarantee, checkpointIntervalMs, stages: describeStages(plan, stages), explain: explainPlan(plan, (s) => stages[s].tasks.length) };
    jobChannel.publish(event);
  }

  stopped(error?: unknown): void {
    // The totals at the end, so a profile or chart covers the run to its last round.
    if (roundChannel.hasSubscribers) this.#publishRound(this.#clock());
    if (!jobChannel.hasSubscribers) return;
    const event: JobEvent = { type: 'stop', job: this.#view.name, time: this.#clock(), ...(error === undefined ? {} : { error: String(error) }) };
    jobChannel.publish(event);
  }

  /** The round's fetches start; returns a time to hand to `fetchedAll`, -1 when nobody listens. */
  fetching(): number {
    return roundChannel.hasSubscribers ? performance.now() : -1;
  }

  /** The round's fetches (started at `start`, from `fetching()`) came back. */
  fetchedAll(start: number): void {
    this.#fetchStart = start;
    this.#fetchEnd = start < 0 ? -1 : performance.now();
  }

  /**
   * A batch was fetched from a source partition; `full` when it holds as many records as were
   * asked for (more are waiting); `firstTimestamp` is its oldest record's log timestamp.
   */
  fetched(source: SourcePartition, count: number, full: boolean, firstTimestamp: number | undefined): void {
    if (!roundChannel.hasSubscribers && !commitChannel.hasSubscribers) return;
    const counts = this.#counts(source);
    counts.read += count;
    if (this.#fetchEnd >= 0) {
      // Records were left waiting at the last fetch: the pipeline kept them waiting until this one.
      if (counts.waitingSince >= 0) counts.waitedMs += Math.max(0, this.#fetchStart - counts.waitingSince);
      counts.waitingSince = full && !source.done ? this.#fetchEnd : -1;
    }
    if (firstTimestamp !== undefined) {
      this.#roundBatches.push(firstTimestamp);
      this.#commitBatches.push(firstTimestamp);
    }
  }

  /** performance.now() when timing a step is wanted (someone listens), else -1. */
  now(): number {
    return roundChannel.hasSubscribers ? performance.now() : -1;
  }

  /** The source's batch was decoded in the time since `start` (from `now()`). */
  decoded(source: SourcePartition, start: number): void {
    if (start >= 0) this.#counts(source).decodeMs += performance.now() - start;
  }

  /** The job waited for input (or async calls) since `start` (performance.now()); always counted, once per wait. */
  idle(start: number): void {
    this.#idleMs += performance.now() - start;
  }

  #counts(source: SourcePartition): SourceCounts {
    let counts = this.#perSource.get(source);
    if (counts === undefined) this.#perSource.set(source, (counts = { read: 0, waitedMs: 0, decodeMs: 0, waitingSince: -1 }));
    return counts;
  }

  /** A round finished: its batches are processed (in memory). Publishes progress, throttled. */
  round(): void {
    this.#rounds++;
    if (!roundChannel.hasSubscribers) {
      this.#roundBatches = [];
      return;
    }
    const now = this.#clock();
    for (const ts of this.#roundBatches) this.#processed.push(now - ts);
    this.#roundBatches = [];
    if (now - this.#lastRoundEvent < ROUND_EVENT_INTERVAL_MS) return;
    this.#publishRound(now);
  }

  #loop(): RoundEvent['loop'] {
    const wallMs = performance.now() - this.#startedAt;
    return { wallMs, idleMs: this.#idleMs, busyMs: Math.max(0, wallMs - this.#idleMs), rounds: this.#rounds };
  }

  /** The progress event, cumulative totals as of now. */
  #publishRound(now: number): void {
    this.#lastRoundEvent = now;
    const event: RoundEvent = {
      job: this.#view.name,
      time: now,
      sources: this.#sources(),
      operators: this.#operators(),
      stages: this.#stages(),
      lateRecords: this.#late(),
      deadLetters: this.#view.deadLetters(),
      written: this.#view.written(),
      loop: this.#loop(),
      state: this.#measureState(now),
      processedLatencyMs: this.#processed,
    };
    this.#processed = [];
    roundChannel.publish(event);
  }

  /**
   * A profile request came through the control topic: measure for its sample time (the events
   * flow while someone listens), then answer with the profile. The loop goes on meanwhile.
   */
  profile(request: ProfileRequest, control: ControlChannel): void {
    const { plan, stages, name, profiler } = this.#view;
    if (profiler === null) return;
    const measured = profiler === undefined ? sampleProfile(name, describeStages(plan, stages), this.#settings, request.sampleMs) : profiler(request.sampleMs);
    void measured
      .then((profile) =>
        control.reply(
          profile === undefined
            ? { type: 'profile-failed', request: request.request, error: `app '${name}' ran no rounds in ${request.sampleMs} ms; ask again with a longer --sample-ms` }
            : { type: 'profile-done', request: request.request, profile },
        ),
      )
      .catch(() => {}); // the asker times out and says so; a reply that failed must not stop the app
  }

  /** Whether `committed()` has anyone to tell; the job skips timing the commit otherwise. */
  get active(): boolean {
    return commitChannel.hasSubscribers;
  }

  /** A commit finished (or failed) after `durationMs`, `heldMs` of it on the loop; reads the consumer lag from the backend. */
  async committed(backend: LogBackend, output: Map<string, OutgoingRecord[]>, durationMs: number, heldMs: number, error?: unknown): Promise<void> {
    if (!commitChannel.hasSubscribers) {
      this.#commitBatches = [];
      return;
    }
    const now = this.#clock();
    const written: Record<string, number> = {};
    for (const [topic, records] of output) written[topic] = records.length;
    const lag: CommitEvent['lag'] = [];
    if (error === undefined) {
      for (const { sources: list } of this.#view.stages) {
        // A source outside the log (a reader) has no end offsets to measure lag against.
        if (list.length === 0 || list[0].reader !== undefined) continue;
        const ends = await backend.endOffsets(list[0].topic);
        for (const s of list) lag.push({ topic: s.topic, partition: s.partition, records: Math.max(0, ends[s.partition] - s.offset) });
      }
    }
    const event: CommitEvent = {
      job: this.#view.name,
      time: now,
      durationMs,
      heldMs,
      ok: error === undefined,
      ...(error === undefined ? {} : { error: String(error) }),
      written,
      committedLatencyMs: error === undefined ? this.#commitBatches.map((ts) => now - ts) : [],
      lag,
      output,
    };
    this.#commitBatches = [];
    commitChannel.publish(event);
  }

  #sources(): RoundEvent['sources'] {
    const out: RoundEvent['sources'] = [];
    const now = performance.now();
    for (const { sources } of this.#view.stages) {
      for (const s of sources) {
        const snap = s.generator.snapshot();
        const counts = this.#counts(s);
        // A partition still waiting counts up to now, so the ratio over any interval is current.
        if (counts.waitingSince >= 0) {
          counts.waitedMs += Math.max(0, now - counts.waitingSince);
          counts.waitingSince = now;
        }
        out.push({ topic: s.topic, partition: s.partition, read: counts.read, offset: s.offset, watermark: s.generator.watermark, maxEventTime: snap.maxSeen, waitedMs: counts.waitedMs, decodeMs: counts.decodeMs });
      }
    }
    return out;
  }

  /** Keyed state per operator (summed over its tasks' tables `operator/kind/task`), re-measured every few seconds. */
  #measureState(now: number): OperatorState[] {
    if (now - this.#stateMeasuredAt < STATE_MEASURE_INTERVAL_MS) return this.#state;
    this.#stateMeasuredAt = now;
    const byOperator = new Map<string, OperatorState>();
    for (const { scope, entries: held, bytes } of this.#view.stateSizes()) {
      const [operator, kind = ''] = scope.split('/');
      // Timer tables mirror keys already counted (and a time index has one entry per timer): their bytes count, their entries do not.
      const entries = kind.endsWith('-timers') || kind.endsWith('-timer-index') ? 0 : held;
      const state = byOperator.get(operator);
      if (state === undefined) byOperator.set(operator, { operator, entries, bytes });
      else {
        state.entries += entries;
        state.bytes += bytes;
      }
    }
    this.#state = [...byOperator.values()];
    return this.#state;
  }

  #operators(): OperatorProgress[] {
    const out: OperatorProgress[] = [];
    for (const stage of this.#view.plan.stages) {
      stage.ops.forEach((op, index) => {
        let inCount = 0;
        let outCount = 0;
        let busyMs = 0;
        let partialMatches = 0;
        let bufferedEvents = 0;
        for (const task of this.#view.stages[stage.id].tasks) {
          inCount += task.counters.in[index];
          outCount += task.counters.out[index];
          busyMs += task.counters.busyMs[index];
          if (op.node.kind === 'pattern') {
            const pattern = task.operators()[index] as { partialMatches?: number; bufferedEvents?: number };
            partialMatches += pattern.partialMatches ?? 0;
            bufferedEvents += pattern.bufferedEvents ?? 0;
          }
        }
        out.push({ stage: stage.id, index, name: op.node.name, in: inCount, out: outCount, busyMs, ...(op.node.kind === 'pattern' ? { partialMatches, bufferedEvents } : {}) });
      });
    }
    return out;
  }

  #stages(): StageWatermark[] {
    const out: StageWatermark[] = [];
    for (const stage of this.#view.stages) {
      if (stage.upstreams.length === 0) continue;
      const inputs: StageWatermark['inputs'] = [];
      for (const u of stage.upstreams) {
        for (let partition = 0; partition < u.stage.tasks.length; partition++) inputs.push({ stage: u.stage.id, partition, watermark: u.stage.partitionWatermark(partition), idle: u.frontier.isIdle(partition) });
      }
      out.push({ stage: stage.id, watermark: stage.inputWatermark(), inputs });
    }
    return out;
  }

  #late(): number {
    let late = 0;
    for (const stage of this.#view.stages) late += stage.late();
    return late;
  }
}

/** The plan as the dashboard and the planner see it: stages, tasks, operators. */
export function describeStages(plan: PhysicalPlan, stages: readonly StageRuntime[]): PlanStage[] {
  const explained = explainPlan(plan).split('\n');
  return plan.stages.map((stage) => ({
    id: stage.id,
    ...(stage.entry.kind === 'source' ? { topic: stage.entry.topic } : {}),
    upstream: stage.upstream,
    tasks: stages[stage.id].tasks.length,
    ops: stage.ops.map((op, index) => {
      // explainPlan prints `  name: detail[ -> exchange ...]`; reuse its wording rather than a second describer.
      const line = explained.find((l) => l.startsWith(`  ${op.node.name}: `)) ?? '';
      const detail = line.slice(op.node.name.length + 4).replace(/ -> exchange to stage .*$/, '');
      const next = [...op.next, ...[...op.side.values()].flat()];
      const node = op.node;
      const window = node.kind === 'window' || node.kind === 'windowJoin' ? { window: node.window, latenessMs: node.lateness.allowedLatenessMs } : {};
      return { index, name: node.name, kind: node.kind === 'flatMap' && node.table ? `table ${node.table}` : node.kind, detail, next, exchanges: op.exchanges, ...window };
    }),
  }));
}
