/**
 * The Prometheus metrics, fed from the runtime's events. Counters grow by the difference of
 * the cumulative totals in successive events; gauges that depend on the wall clock (watermark
 * lag) are computed when scraped.
 *
 * Not exported, on purpose: `sluice_state_bytes` (state backends do not report a size yet)
 * and `sluice_backpressure_ratio` (the runtime pulls batches and has no queues to saturate;
 * `sluice_operator_busy_seconds_total` shows where time goes instead).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CommitEvent, RoundEvent } from '../runtime/index.ts';

const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];

interface Totals {
  read: Map<string, number>;
  out: Map<string, number>;
  busy: Map<string, number>;
  late: number;
  dlq: number;
}

export class PrometheusMetrics {
  readonly registry = new Registry();
  readonly #totals = new Map<string, Totals>();
  /** Latest watermark per `pipeline|topic|partition`, for the scrape-time lag. */
  readonly #watermarks = new Map<string, { pipeline: string; topic: string; partition: string; watermark: number }>();
  readonly #recordsIn: Counter;
  readonly #recordsOut: Counter;
  readonly #busy: Counter;
  readonly #latency: Histogram;
  readonly #consumerLag: Gauge;
  readonly #checkpointDuration: Histogram;
  readonly #checkpointLastSuccess: Gauge;
  readonly #checkpointFailures: Counter;
  readonly #dlq: Counter;
  readonly #late: Counter;

  constructor(clock: () => number = Date.now) {
    const registers = [this.registry];
    this.#recordsIn = new Counter({ name: 'sluice_records_in_total', help: 'Log records read, per source topic and partition', labelNames: ['pipeline', 'topic', 'partition'], registers });
    this.#recordsOut = new Counter({
      name: 'sluice_records_out_total',
      help: 'Records emitted per operator (label operator), and records committed per sink topic (label topic)',
      labelNames: ['pipeline', 'operator', 'topic'],
      registers,
    });
    this.#busy = new Counter({ name: 'sluice_operator_busy_seconds_total', help: 'Time spent inside each operator (processing and window firing), summed over tasks', labelNames: ['pipeline', 'operator'], registers });
    this.#latency = new Histogram({
      name: 'sluice_latency_seconds',
      help: 'Per fetched batch: time from the oldest record log timestamp (ingest) until its round finished (stage=processed) or its output committed (stage=committed)',
      labelNames: ['pipeline', 'stage'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const watermarks = this.#watermarks;
    new Gauge({
      name: 'sluice_watermark_lag_seconds',
      help: 'Wall clock minus the source partition watermark',
      labelNames: ['pipeline', 'topic', 'partition'],
      registers,
      collect() {
        const now = clock();
        for (const w of watermarks.values()) {
          if (Number.isFinite(w.watermark)) this.set({ pipeline: w.pipeline, topic: w.topic, partition: w.partition }, (now - w.watermark) / 1000);
        }
      },
    });
    this.#consumerLag = new Gauge({ name: 'sluice_consumer_lag_records', help: 'Log end minus committed offset, per source partition, after the last commit', labelNames: ['pipeline', 'topic', 'partition'], registers });
    this.#checkpointDuration = new Histogram({ name: 'sluice_checkpoint_duration_seconds', help: 'Duration of the commit step (output and offsets together)', labelNames: ['pipeline'], buckets: LATENCY_BUCKETS, registers });
    this.#checkpointLastSuccess = new Gauge({ name: 'sluice_checkpoint_last_success_timestamp', help: 'Unix time (seconds) of the last successful commit', labelNames: ['pipeline'], registers });
    this.#checkpointFailures = new Counter({ name: 'sluice_checkpoint_failures_total', help: 'Commits that failed', labelNames: ['pipeline'], registers });
    this.#dlq = new Counter({ name: 'sluice_dlq_records_total', help: 'Records sent to the dead-letter topic', labelNames: ['pipeline'], registers });
    this.#late = new Counter({ name: 'sluice_late_records_total', help: 'Records late for every window they belong to (dropped or side output)', labelNames: ['pipeline'], registers });
  }

  /** A job (re)started: its cumulative totals start again from zero. */
  reset(pipeline: string): void {
    this.#totals.set(pipeline, { read: new Map(), out: new Map(), busy: new Map(), late: 0, dlq: 0 });
  }

  round(e: RoundEvent): void {
    const pipeline = e.job;
    let t = this.#totals.get(pipeline);
    if (t === undefined) this.reset(pipeline);
    t = this.#totals.get(pipeline)!;
    for (const s of e.sources) {
      const id = `${s.topic}|${s.partition}`;
      const partition = String(s.partition);
      grow(this.#recordsIn, { pipeline, topic: s.topic, partition }, t.read, id, s.read);
      this.#watermarks.set(`${pipeline}|${id}`, { pipeline, topic: s.topic, partition, watermark: s.watermark });
    }
    for (const op of e.operators) {
      grow(this.#recordsOut, { pipeline, operator: op.name }, t.out, op.name, op.out);
      grow(this.#busy, { pipeline, operator: op.name }, t.busy, op.name, op.busyMs / 1000);
    }
    if (e.lateRecords > t.late) this.#late.inc({ pipeline }, e.lateRecords - t.late);
    if (e.deadLetters > t.dlq) this.#dlq.inc({ pipeline }, e.deadLetters - t.dlq);
    t.late = e.lateRecords;
    t.dlq = e.deadLetters;
    for (const ms of e.processedLatencyMs) this.#latency.observe({ pipeline, stage: 'processed' }, Math.max(0, ms) / 1000);
  }

  commit(e: CommitEvent): void {
    const pipeline = e.job;
    this.#checkpointDuration.observe({ pipeline }, e.durationMs / 1000);
    if (!e.ok) {
      this.#checkpointFailures.inc({ pipeline });
      return;
    }
    this.#checkpointLastSuccess.set({ pipeline }, e.time / 1000);
    for (const [topic, n] of Object.entries(e.written)) if (n > 0) this.#recordsOut.inc({ pipeline, topic }, n);
    for (const ms of e.committedLatencyMs) this.#latency.observe({ pipeline, stage: 'committed' }, Math.max(0, ms) / 1000);
    for (const l of e.lag) this.#consumerLag.set({ pipeline, topic: l.topic, partition: String(l.partition) }, l.records);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** Increments a counter by how much a cumulative total grew since it was last seen. */
function grow(counter: Counter, labels: Record<string, string>, seen: Map<string, number>, id: string, total: number): void {
  const before = seen.get(id) ?? 0;
  if (total > before) counter.inc(labels, total - before);
  seen.set(id, total);
}
