/**
 * The round loop's one step: read one batch from every source partition that has not ended
 * (LogBackend.fetch, all partitions at once), run each batch through its task, then move
 * watermarks through the stages in order and advance processing time. And the wait between
 * rounds: for new data on any partition, without polling.
 */
import type { LogBackend } from '../backend/index.ts';
import type { JobProbe } from './metrics.ts';
import type { SourcePartition } from './source.ts';
import type { StageRuntime } from './stage.ts';
import type { Topology } from './topology.ts';

export class Rounds {
  readonly #topology: Topology;
  readonly #backend: LogBackend;
  readonly #probe: JobProbe;
  readonly #clock: () => number;
  readonly #batchSize: number;
  /** Source records read so far. */
  records = 0;

  constructor(topology: Topology, backend: LogBackend, probe: JobProbe, clock: () => number, batchSize: number) {
    this.#topology = topology;
    this.#backend = backend;
    this.#probe = probe;
    this.#clock = clock;
    this.#batchSize = batchSize;
  }

  /**
   * Bounded runs: each partition ends at its current end offset; one with nothing to read ends at
   * once. With `until` (event time, epoch ms), a partition also ends before its first record
   * later than that, and its watermark ends at `until + 1` instead of +Infinity: what is complete
   * by then fires, and nothing later.
   */
  async bound(until?: number): Promise<void> {
    const ends = new Map<string, number[]>();
    for (const { stage, source } of this.#topology.sources()) {
      if (source.reader !== undefined) await source.reader.bound();
      else {
        if (!source.endsAtOffset) continue;
        let topicEnds = ends.get(source.topic);
        if (topicEnds === undefined) ends.set(source.topic, (topicEnds = await this.#backend.endOffsets(source.topic)));
        source.end = topicEnds[source.partition];
        source.until = until;
      }
      // A partition with nothing to read ends at once, so it never holds the watermark back.
      if (source.done) {
        endSource(source);
        stage.activity(source.partition);
      }
    }
  }

  /** Whether every source partition reached its end (bounded runs). */
  get done(): boolean {
    for (const { source } of this.#topology.sources()) if (!source.done) return false;
    return true;
  }

  /** Reads and processes one batch per source partition; returns the number of records read. */
  async round(): Promise<number> {
    const batchSize = this.#batchSize;
    const pending: { stage: StageRuntime; source: SourcePartition }[] = [];
    // A full async queue pauses every source until it drains (backpressure).
    const paused = this.#topology.saturated;
    for (const entry of this.#topology.sources()) if (!entry.source.done && !paused) pending.push(entry);
    const probe = this.#probe;
    const fetchStart = probe.fetching(); // metrics: backpressure
    const fetched = await Promise.all(pending.map(({ source: s }) => s.fetch(this.#backend, Math.min(batchSize, s.end - s.offset))));
    probe.fetchedAll(fetchStart); // metrics
    let read = 0;
    let input = 0;
    pending.forEach(({ stage, source }, i) => {
      const { records, nextOffset } = fetched[i];
      const full = records.length > 0 && records.length >= Math.min(batchSize, source.end - source.offset);
      source.offset = nextOffset;
      read += records.length;
      if (source.endsAtOffset) input += records.length; // the app's input, not what crossed a repartition topic
      probe.fetched(source, records.length, full, records[0]?.timestamp); // metrics
      // Decoding runs inside the task's fused run (its time counts at the run's first operator).
      if (records.length > 0) stage.tasks[source.partition].pushDecoded((sink) => source.decode(records, sink), source.origin);
      if (source.done) endSource(source);
      if (records.length > 0 || source.done) stage.activity(source.partition);
    });
    this.records += input;
    const topology = this.#topology;
    topology.propagate();
    const now = this.#clock();
    for (const task of topology.timed) task.advanceProcessingTime(now);
    if (topology.timed.length > 0) topology.propagate();
    probe.round(); // metrics
    return read;
  }

  /** Waits until any partition has data past its position, `stop` resolves, or `timeoutMs` passes. */
  async waitForData(timeoutMs: number, stop: Promise<void>): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const { source: s } of this.#topology.sources()) waits.push(s.reader === undefined ? this.#backend.waitForData(s.topic, s.partition, s.offset, timeoutMs) : s.reader.waitForData(timeoutMs));
    // Any partition with new data (or the stop) ends the wait: waiting for all would add up to a timeout of latency.
    const t0 = performance.now(); // metrics: idle time
    await Promise.race([...waits, stop]);
    this.#probe.idle(t0);
  }
}

/** A bounded partition reached its end: its watermark goes to +Infinity, or to `until + 1`. */
function endSource(source: SourcePartition): void {
  if (source.until === undefined) source.generator.end();
  else source.generator.observe(source.until + 1 + source.generator.boundMs);
}
