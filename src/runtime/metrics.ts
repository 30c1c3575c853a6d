/**
 * The job's probe: turns the job's own counters into the events of `metrics-events.ts`.
 * The job calls it at a few points (start, each fetched batch, each round, each commit);
 * every call returns at once when nobody subscribes.
 */
import type { LogBackend, OutgoingRecord } from '../backend/index.ts';
import { explainPlan, type PhysicalPlan } from '../plan/index.ts';
import {
  type CommitEvent,
  commitChannel,
  type JobEvent,
  jobChannel,
  type OperatorProgress,
  type PlanStage,
  ROUND_EVENT_INTERVAL_MS,
  type RoundEvent,
  roundChannel,
  type StageWatermark,
} from './metrics-events.ts';
import type { SourcePartition } from './source.ts';
import type { StageRuntime } from './stage.ts';

/** What the probe reads of a job; the job hands over its own structures, nothing is copied. */
export interface ProbeView {
  name: string;
  plan: PhysicalPlan;
  stages: readonly StageRuntime[];
  deadLetters(): number;
  written(): number;
}

export class JobProbe {
  readonly #view: ProbeView;
  readonly #clock: () => number;
  /** Log records read per source partition, by `topic/partition`. */
  readonly #read = new Map<string, number>();
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
    if (!jobChannel.hasSubscribers) return;
    const { plan, stages, name } = this.#view;
    const event: JobEvent = { type: 'start', job: name, time: this.#clock(), guarantee, checkpointIntervalMs, stages: describeStages(plan, stages), explain: explainPlan(plan, (s) => stages[s].tasks.length) };
    jobChannel.publish(event);
  }

  stopped(error?: unknown): void {
    if (!jobChannel.hasSubscribers) return;
    const event: JobEvent = { type: 'stop', job: this.#view.name, time: this.#clock(), ...(error === undefined ? {} : { error: String(error) }) };
    jobChannel.publish(event);
  }

  /** A batch was fetched from a source partition; `firstTimestamp` is its oldest record's log timestamp. */
  fetched(source: SourcePartition, count: number, firstTimestamp: number | undefined): void {
    if (!roundChannel.hasSubscribers && !commitChannel.hasSubscribers) return;
    const id = `${source.topic}/${source.partition}`;
    this.#read.set(id, (this.#read.get(id) ?? 0) + count);
    if (firstTimestamp !== undefined) {
      this.#roundBatches.push(firstTimestamp);
      this.#commitBatches.push(firstTimestamp);
    }
  }

  /** A round finished: its batches are processed (in memory). Publishes progress, throttled. */
  round(): void {
    if (!roundChannel.hasSubscribers) {
      this.#roundBatches = [];
      return;
    }
    const now = this.#clock();
    for (const ts of this.#roundBatches) this.#processed.push(now - ts);
    this.#roundBatches = [];
    if (now - this.#lastRoundEvent < ROUND_EVENT_INTERVAL_MS) return;
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
      processedLatencyMs: this.#processed,
    };
    this.#processed = [];
    roundChannel.publish(event);
  }

  /** Whether `committed()` has anyone to tell; the job skips timing the commit otherwise. */
  get active(): boolean {
    return commitChannel.hasSubscribers;
  }

  /** A commit finished (or failed) after `durationMs`; reads the consumer lag from the backend. */
  async committed(backend: LogBackend, output: Map<string, OutgoingRecord[]>, durationMs: number, error?: unknown): Promise<void> {
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
    for (const { sources } of this.#view.stages) {
      for (const s of sources) {
        const snap = s.generator.snapshot();
        out.push({ topic: s.topic, partition: s.partition, read: this.#read.get(`${s.topic}/${s.partition}`) ?? 0, offset: s.offset, watermark: s.generator.watermark, maxEventTime: snap.maxSeen });
      }
    }
    return out;
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

function describeStages(plan: PhysicalPlan, stages: readonly StageRuntime[]): PlanStage[] {
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
      return { index, name: op.node.name, kind: op.node.kind === 'flatMap' && op.node.table ? `table ${op.node.table}` : op.node.kind, detail, next, exchanges: op.exchanges, ...(op.node.kind === 'window' ? { window: op.node.window } : {}) };
    }),
  }));
}
