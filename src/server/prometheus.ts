/**
 * The Prometheus metrics, fed from the runtime's events. Counters grow by the difference of
 * the cumulative totals in successive events; gauges that depend on the wall clock (watermark
 * lag) are computed when scraped.
 *
 * `sluice_backpressure_ratio` is, per source partition (one task each), the share of wall time
 * its records waited on the pipeline (see `SourceProgress.waitedMs`), over the last second or
 * more; `sluice_source_wait_seconds_total` is the same wait as a counter, for `rate()`.
 * `sluice_state_bytes` is each operator's keyed state as its state backend measures it.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PushSourceEvent } from '../api/index.ts';
import { type CommitEvent, loopThreads, type RoundEvent } from '../runtime/index.ts';

const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];

interface Totals {
  read: Map<string, number>;
  out: Map<string, number>;
  busy: Map<string, number>;
  waited: Map<string, number>;
  late: number;
  dlq: number;
  loopBusyMs: number;
  /** Busy ms per thread of a run on several (by thread index). */
  threadBusy: Map<string, number>;
  /** Push sources' counts, by `source|what`. */
  push: Map<string, number>;
}

/** The backpressure ratio is taken over at least this much wall time. */
const RATIO_WINDOW_MS = 1000;

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
  readonly #stateBytes: Gauge;
  readonly #stateEntries: Gauge;
  readonly #waited: Counter;
  readonly #backpressure: Gauge;
  readonly #loopBusy: Counter;
  readonly #threadBusy: Counter;
  /** Per `pipeline|topic|partition`: the wall time and wait at the start of the ratio's window. */
  readonly #ratioBase = new Map<string, { time: number; waitedMs: number }>();
  readonly #pushRecords: Counter;
  readonly #pushRefused: Counter;
  readonly #pushBuffered: Gauge;
  readonly #pushCapacity: Gauge;

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
    this.#stateBytes = new Gauge({
      name: 'sluice_state_bytes',
      help: 'Keyed state per operator, summed over tasks: lmdb bytes on disk at the last checkpoint; memory serialized bytes estimated from a sample of entries',
      labelNames: ['pipeline', 'operator'],
      registers,
    });
    this.#stateEntries = new Gauge({ name: 'sluice_state_entries', help: 'Keyed state entries (keys) per operator, summed over tasks', labelNames: ['pipeline', 'operator'], registers });
    this.#waited = new Counter({
      name: 'sluice_source_wait_seconds_total',
      help: 'Time a source partition had records waiting (its last fetch came back full) while the pipeline was busy',
      labelNames: ['pipeline', 'topic', 'partition'],
      registers,
    });
    this.#backpressure = new Gauge({ name: 'sluice_backpressure_ratio', help: 'Share of wall time a source partition (one task) waited on the pipeline, over the last second or more', labelNames: ['pipeline', 'topic', 'partition'], registers });
    this.#loopBusy = new Counter({ name: 'sluice_loop_busy_seconds_total', help: 'Time the job loop worked (wall time minus waiting for input); over wall time, its utilization', labelNames: ['pipeline'], registers });
    this.#threadBusy = new Counter({ name: 'sluice_thread_busy_seconds_total', help: 'Time each thread of the run worked (a run on one thread has thread 0); its rate() is that thread\'s load', labelNames: ['pipeline', 'thread'], registers });
    this.#pushRecords = new Counter({
      name: 'sluice_push_source_records_total',
      help: 'Push sources (HTTP, MQTT): records accepted into the buffer, dropped because it was full, and shed by the rule (label outcome)',
      labelNames: ['pipeline', 'source', 'outcome'],
      registers,
    });
    this.#pushRefused = new Counter({ name: 'sluice_push_source_refused_requests_total', help: 'Push sources: requests refused because the buffer was full (HTTP 429)', labelNames: ['pipeline', 'source'], registers });
    this.#pushBuffered = new Gauge({ name: 'sluice_push_source_buffered_records', help: 'Push sources: records in the buffer, waiting for the pipeline', labelNames: ['pipeline', 'source'], registers });
    this.#pushCapacity = new Gauge({ name: 'sluice_push_source_buffer_capacity_records', help: 'Push sources: the bound of the buffer', labelNames: ['pipeline', 'source'], registers });
  }

  /** A job (re)started: its cumulative totals start again from zero. */
  reset(pipeline: string): void {
    this.#totals.set(pipeline, { read: new Map(), out: new Map(), busy: new Map(), waited: new Map(), late: 0, dlq: 0, loopBusyMs: 0, threadBusy: new Map(), push: new Map() });
    for (const key of this.#ratioBase.keys()) if (key.startsWith(`${pipeline}|`)) this.#ratioBase.delete(key);
  }

  round(e: RoundEvent): void {
    const pipeline = e.job;
    let t = this.#totals.get(pipeline);
    if (t === undefined) this.reset(pipeline);
    t = this.#totals.get(pipeline)!;
    for (const s of e.sources) {
      const id = `${s.topic}|${s.partition}`;
      const partition = String(s.partition);
      const labels = { pipeline, topic: s.topic, partition };
      grow(this.#recordsIn, labels, t.read, id, s.read);
      if (!t.waited.has(id)) this.#waited.inc(labels, 0); // present from the start: a partition that never waited shows 0
      grow(this.#waited, labels, t.waited, id, s.waitedMs / 1000);
      this.#watermarks.set(`${pipeline}|${id}`, { pipeline, topic: s.topic, partition, watermark: s.watermark });
      const base = this.#ratioBase.get(`${pipeline}|${id}`);
      const wall = e.loop.wallMs;
      if (base === undefined) this.#ratioBase.set(`${pipeline}|${id}`, { time: wall, waitedMs: s.waitedMs });
      else if (wall - base.time >= RATIO_WINDOW_MS) {
        this.#backpressure.set(labels, Math.min(1, Math.max(0, (s.waitedMs - base.waitedMs) / (wall - base.time))));
        this.#ratioBase.set(`${pipeline}|${id}`, { time: wall, waitedMs: s.waitedMs });
      }
    }
    const loopBusyMs = e.loop.busyMs;
    if (loopBusyMs > t.loopBusyMs) this.#loopBusy.inc({ pipeline }, (loopBusyMs - t.loopBusyMs) / 1000);
    t.loopBusyMs = loopBusyMs;
    loopThreads(e.loop).forEach((thread, i) => {
      grow(this.#threadBusy, { pipeline, thread: String(i) }, t.threadBusy, String(i), thread.busyMs / 1000);
    });
    for (const st of e.state) {
      this.#stateBytes.set({ pipeline, operator: st.operator }, st.bytes);
      this.#stateEntries.set({ pipeline, operator: st.operator }, st.entries);
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

  pushSource(e: PushSourceEvent): void {
    const pipeline = e.app;
    if (!this.#totals.has(pipeline)) this.reset(pipeline);
    const seen = this.#totals.get(pipeline)!.push;
    const source = e.source;
    for (const outcome of ['accepted', 'dropped', 'shed'] as const) grow(this.#pushRecords, { pipeline, source, outcome }, seen, `${source}|${outcome}`, e[outcome]);
    grow(this.#pushRefused, { pipeline, source }, seen, `${source}|refused`, e.refused);
    this.#pushBuffered.set({ pipeline, source }, e.buffered);
    this.#pushCapacity.set({ pipeline, source }, e.capacity);
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
