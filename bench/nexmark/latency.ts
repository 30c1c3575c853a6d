/**
 * End-to-end latency at a fixed rate below saturation, on the in-memory log.
 *
 * Method: a producer in the same process appends event i to the input topic at its scheduled
 * time t0 + i / rate (checked every millisecond, so it writes in small bursts), while Sluice
 * runs unbounded (at-least-once, committing every `commitMs`). A row's latency is the time it
 * became visible in the output topic minus the scheduled time of the input event that made it
 * due: its own event for per-event queries, and for windowed queries the first event whose
 * time moved the watermark past the window's end. That event is found by running the
 * hand-written loop over the same events and noting which event it was processing when it
 * emitted each row; Sluice's rows are matched to those by content. Measuring from the
 * scheduled time (not the append) counts any delay of the producer against the engine, so a
 * stall is never hidden (no coordinated omission). The worker generates this input with event
 * time running 20 times faster than the wall clock, so that windows close every fraction of a
 * second and windowed queries get a distribution rather than a sample or two.
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { Sluice } from '../../src/index.ts';
import type { OutgoingRecord } from '../../src/backend/index.ts';
import { MemoryBackend } from '../../src/testing/index.ts';
import { canonical } from './checksum.ts';
import { codecsFor } from './codecs.ts';
import { INPUT_TOPIC, type NexmarkQuery, OUTPUT_TOPIC } from './queries/index.ts';
import type { Input } from './run.ts';
import { quantile } from './stats.ts';

export interface LatencyOptions {
  rate: number;
  events: number;
  commitMs: number;
}

export interface LatencyResult {
  rate: number;
  events: number;
  rows: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Garbage-collection pauses during the run: the longest and their sum. */
  gcMaxMs: number;
  gcTotalMs: number;
  /** Of those, the young-generation collections (scavenges, which copy what survives: here every record the memory log keeps) and the full ones. */
  scavenges: GcKind;
  fullGcs: GcKind;
}

/** Collections of one kind during the run: how many, the longest and their sum, ms. */
export interface GcKind {
  count: number;
  maxMs: number;
  totalMs: number;
}

/** A memory log that notes when each output record became readable. */
class TimedBackend extends MemoryBackend {
  readonly visibleAt: number[] = [];

  override appendSync(topic: string, records: readonly OutgoingRecord[], txn: Parameters<MemoryBackend['appendSync']>[2]): void {
    super.appendSync(topic, records, txn);
    if (topic === OUTPUT_TOPIC) {
      if (txn !== null) throw new Error('latency runs use at-least-once: output must be readable when appended');
      const now = performance.now();
      for (let i = 0; i < records.length; i++) this.visibleAt.push(now);
    }
  }
}

/**
 * For each row content, the ids of the events that made rows with that content due: the event
 * the hand-written loop was processing when it emitted the row, or for windowed queries the
 * first event at or past the row's due time (the loop may emit later than that, e.g. q11's
 * once-a-second sweep, and must not make the engine look faster than it is).
 */
function dueEvents(query: NexmarkQuery, input: Input, count: number): Map<string, number[]> {
  const codecs = codecsFor(input.mode, input.events);
  const due = new Map<string, number[]>();
  let current = 0;
  query.handwritten(
    count,
    (i) => codecs.event.decode(input.values[(current = i)]),
    (row) => {
      const key = canonical(row);
      const id = query.dueTime === undefined ? current : firstAtOrAfter(input, count, query.dueTime(row));
      const list = due.get(key);
      if (list === undefined) due.set(key, [id]);
      else list.push(id);
    },
  );
  // First come first served among identical rows.
  for (const list of due.values()) list.reverse();
  return due;
}

/** The first of `count` events (in event-time order) at or past `time`; `count` if none. */
function firstAtOrAfter(input: Input, count: number, time: number): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (input.events[mid].dateTime < time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export async function measureLatency(query: NexmarkQuery, input: Input, options: LatencyOptions): Promise<LatencyResult> {
  const count = Math.min(options.events, input.values.length);
  const due = dueEvents(query, input, count);
  const codecs = codecsFor(input.mode, input.events);
  const backend = new TimedBackend();
  backend.createTopicSync(INPUT_TOPIC, 1);
  backend.createTopicSync(OUTPUT_TOPIC, 1);
  const app = new Sluice({ name: `nexmark-latency-${query.name}`, backend, guarantee: 'at-least-once', checkpointInterval: options.commitMs });
  query.sluice(app, codecs);
  const gc = { max: 0, total: 0 };
  const scavenges: GcKind = { count: 0, maxMs: 0, totalMs: 0 };
  const fullGcs: GcKind = { count: 0, maxMs: 0, totalMs: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.max = Math.max(gc.max, entry.duration);
      gc.total += entry.duration;
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
      const of = kind === constants.NODE_PERFORMANCE_GC_MINOR ? scavenges : kind === constants.NODE_PERFORMANCE_GC_MAJOR ? fullGcs : undefined;
      if (of === undefined) continue;
      of.count++;
      of.maxMs = Math.max(of.maxMs, entry.duration);
      of.totalMs += entry.duration;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const running = app.run({});

  const t0 = performance.now() + 20;
  const scheduled = (i: number): number => t0 + (i * 1000) / options.rate;
  let produced = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const dueCount = Math.min(count, Math.floor(((performance.now() - t0) * options.rate) / 1000) + 1);
      if (dueCount > produced) {
        const records = [];
        for (let i = produced; i < dueCount; i++) records.push({ key: null, value: input.values[i], timestamp: input.events[i].dateTime, partition: 0 });
        backend.appendSync(INPUT_TOPIC, records, null);
        produced = dueCount;
      }
      if (produced >= count) resolve();
      else setTimeout(tick, 1);
    };
    setTimeout(tick, 1);
  });
  // Let the last rows through, then stop; rows that need the end of input never come unbounded.
  // Rows due before the last event must all arrive; those of the last event or of the end of
  // input (the hand-written loop's final flush) may not, so wait for the former plus a moment.
  let expected = 0;
  for (const list of due.values()) for (const id of list) if (id < count - 1) expected++;
  const deadline = performance.now() + 5000;
  while (backend.visibleAt.length < expected && performance.now() < deadline) await sleep(2);
  await sleep(50);
  app.stop();
  await running;
  observer.disconnect();

  const latencies: number[] = [];
  let offset = 0;
  for (let next = 0; ; ) {
    const { records, nextOffset } = backend.fetchSync(OUTPUT_TOPIC, 0, next, 100_000);
    for (const r of records) {
      const id = due.get(canonical(codecs.row.decode(r.value!)))?.pop();
      if (id === undefined || id >= count) throw new Error(`${query.name}: Sluice emitted a row the hand-written loop did not, or before it was due`);
      latencies.push(backend.visibleAt[offset++] - scheduled(id));
    }
    if (nextOffset === next) break;
    next = nextOffset;
  }
  const sorted = Float64Array.from(latencies).sort();
  return { rate: options.rate, events: count, rows: sorted.length, p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99), maxMs: quantile(sorted, 1), gcMaxMs: gc.max, gcTotalMs: gc.total, scavenges, fullGcs };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
