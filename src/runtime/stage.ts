/**
 * One stage at run time: its tasks (one per partition), the source partitions feeding a source
 * stage, the frontiers over its upstream stages' partitions, and the watermark each task last
 * forwarded through its exchanges ("leaving"). Watermarks move downstream through it: a stage
 * tells the frontiers of the stages reading it what its partitions stand at.
 */
import type { TaskSnapshot } from '../checkpoint/index.ts';
import type { Stage } from '../plan/index.ts';
import { Frontier, type FrontierOptions } from '../time/index.ts';
import type { SourcePartition } from './source.ts';
import type { Task } from './task.ts';

/** A stage's view of one upstream stage: a frontier over that stage's partitions. */
export interface UpstreamInput {
  stage: StageRuntime;
  frontier: Frontier;
}

export class StageRuntime {
  readonly plan: Stage;
  readonly tasks: readonly Task[];
  /** A source stage's partitions, by partition (empty for a keyed stage). */
  readonly sources: SourcePartition[];
  /** The stages feeding this one through exchanges, each with a frontier over its partitions. */
  readonly upstreams: UpstreamInput[] = [];
  /** The watermark each task last forwarded through its exchanges. */
  readonly leaving: number[];
  /** The stage's input watermark: the minimum over its upstreams' frontiers. */
  #input: Frontier | undefined;
  /** Frontiers of downstream stages over this stage's partitions. */
  readonly #readers: Frontier[] = [];

  constructor(plan: Stage, tasks: Task[], sources: SourcePartition[]) {
    this.plan = plan;
    this.tasks = tasks;
    this.sources = sources;
    this.leaving = tasks.map(() => Number.NEGATIVE_INFINITY);
  }

  get id(): number {
    return this.plan.id;
  }

  /** A source stage, or a keyed stage reading a repartition topic (scale-out), which runs as one. */
  get isSource(): boolean {
    return this.plan.entry.kind === 'source' || this.sources.length > 0;
  }

  /** Makes this stage read `upstream`'s partitions (once per upstream stage, before the first round). */
  readFrom(upstream: StageRuntime, options: FrontierOptions): void {
    const frontier = new Frontier(upstream.tasks.length, options);
    this.upstreams.push({ stage: upstream, frontier });
    upstream.#readers.push(frontier);
    this.#input = new Frontier(this.upstreams.length);
  }

  /**
   * Partition `i`'s watermark as downstream stages see it: what the task forwarded, and for a
   * source stage no more than the source's (an async operator may hold it behind the source's).
   */
  partitionWatermark(i: number): number {
    return this.isSource ? Math.min(this.sources[i].generator.watermark, this.leaving[i]) : this.leaving[i];
  }

  /** Source partition `i` produced records (or ended): its watermark counts downstream, and it is not idle. */
  activity(i: number): void {
    const watermark = this.partitionWatermark(i);
    for (const reader of this.#readers) reader.advance(i, watermark);
  }

  /** Tells downstream frontiers what every partition stands at (after a restore). */
  announce(): void {
    for (let i = 0; i < this.tasks.length; i++) {
      const watermark = this.partitionWatermark(i);
      for (const reader of this.#readers) reader.advance(i, watermark);
    }
  }

  /**
   * Moves watermarks through the stage: a source stage's tasks take their partition's
   * watermark; a keyed stage's tasks drain what the exchanges delivered, then take the minimum
   * over the upstream frontiers. Called in stage order, so upstreams have moved first.
   */
  advance(): void {
    const { tasks, leaving } = this;
    if (this.isSource) {
      for (let i = 0; i < tasks.length; i++) {
        const before = leaving[i];
        leaving[i] = tasks[i].advanceWatermark(this.sources[i].generator.watermark);
        // A watermark an async operator held back and now released reaches downstream here; one that
        // rose with the source's records was announced by activity() already (which also marks the partition busy).
        if (leaving[i] > before) for (const reader of this.#readers) reader.advance(i, this.partitionWatermark(i));
      }
      return;
    }
    const input = this.#input!;
    for (let k = 0; k < this.upstreams.length; k++) input.advance(k, this.upstreams[k].frontier.current());
    const watermark = input.current();
    for (let i = 0; i < tasks.length; i++) {
      tasks[i].drain();
      leaving[i] = tasks[i].advanceWatermark(watermark);
    }
    for (const reader of this.#readers) for (let i = 0; i < leaving.length; i++) reader.advance(i, leaving[i]);
  }

  /** The stage's input watermark now (the minimum over its upstreams), for metrics. */
  inputWatermark(): number {
    let watermark = Number.POSITIVE_INFINITY;
    for (const u of this.upstreams) watermark = Math.min(watermark, u.frontier.current());
    return watermark;
  }

  /** Whether any task holds exchanged input not yet processed. */
  get hasPending(): boolean {
    return this.tasks.some((task) => task.hasPending);
  }

  /** Records dropped as late by the stage's operators. */
  late(): number {
    let late = 0;
    for (const task of this.tasks) for (const op of task.operators()) late += (op as { lateRecords?: number }).lateRecords ?? 0;
    return late;
  }

  snapshotTasks(): TaskSnapshot[] {
    return this.tasks.map((task) => task.snapshot());
  }

  snapshotSources(): { offset: number; generator: { maxSeen: number; ended: boolean }; position?: unknown }[] {
    return this.sources.map((s) => ({ offset: s.offset, generator: s.generator.snapshot(), ...(s.reader === undefined ? {} : { position: s.reader.position() }) }));
  }

  /** Puts source partitions back at a checkpoint's offsets and watermark generators. */
  restoreSources(saved: { offset: number; generator: { maxSeen: number | null; ended: boolean }; position?: unknown }[]): void {
    for (const source of this.sources) {
      const state = saved[source.partition];
      source.offset = state.offset;
      source.generator.restore(state.generator);
      if (source.reader !== undefined && state.position !== undefined) source.reader.seek(state.position);
    }
  }

  /**
   * After a bounded run's final checkpoint (not restored: a clean slate), sources outside the log
   * still resume where it left them, as log sources resume from their committed offsets.
   */
  resumeReaders(saved: { offset: number; position?: unknown }[] | undefined): void {
    for (const source of this.sources) {
      const state = saved?.[source.partition];
      if (source.reader === undefined || state?.position === undefined) continue;
      source.offset = state.offset;
      source.reader.seek(state.position);
    }
  }
}
