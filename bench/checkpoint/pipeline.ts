/**
 * The pipeline every case of the checkpoint benchmark runs, and its input: events
 * `{ k, v, t }` keyed by `k`; a keyed process function keeps each key's running average
 * (`{ sum, n }` in one value state) and emits `{ k, avg, t }` every `emitEvery`-th update of
 * the key, `t` being the input's event time (its append time in the latency case).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Log } from '../../src/log/index.ts';
import type { CommitEvent } from '../../src/runtime/metrics-events.ts';
import { Sluice } from '../../src/sluice.ts';

export interface Event {
  k: string;
  v: number;
  t: number;
}

export interface Average {
  sum: number;
  n: number;
}

export interface Output {
  k: string;
  avg: number;
  t: number;
}

export interface AppConfig {
  name: string;
  dataDir: string;
  input: string;
  output: string;
  state: 'memory' | 'lmdb';
  checkpointInterval: Interval;
  emitEvery: number;
  /** Called once, at the first record: its key and that key's state before it (the recovery case times it). */
  onFirst?: (key: string, before: Average | undefined) => void;
}

export const PARTITIONS = 4;
/** Checkpoint intervals measured; `'1h'` stands for none but the final one. */
export type Interval = '1h' | '1s' | '100ms';

export function buildApp(config: AppConfig): Sluice {
  const app = new Sluice({ name: config.name, dataDir: config.dataDir, state: config.state, checkpointInterval: config.checkpointInterval, guarantee: 'exactly-once' });
  let first = config.onFirst;
  const every = config.emitEvery;
  app
    .stream<Event>(config.input, { timestamp: (e) => e.t })
    .keyBy((e) => e.k)
    .process<Output>({
      processElement(e, ctx) {
        const avg = ctx.state.value<Average>('avg');
        const before = avg.value();
        if (first !== undefined) {
          first(ctx.key, before);
          first = undefined;
        }
        const next = before === undefined ? { sum: e.v, n: 1 } : { sum: before.sum + e.v, n: before.n + 1 };
        avg.update(next);
        if (next.n % every === 0) ctx.emit({ k: ctx.key, avg: next.sum / next.n, t: ctx.timestamp });
      },
    })
    .to(config.output);
  return app;
}

/** A small deterministic PRNG (mulberry32), so every run reads the same input. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const encoder = new TextEncoder();

/**
 * Appends `count` events to `topic` in batches of 10,000, keyed by `keyOf(i)` (so each key
 * lives in one partition as a producer would place it). Not timed by any case.
 */
export async function produceEvents(log: Log, topic: string, count: number, keyOf: (i: number) => string, baseTime = Date.now()): Promise<void> {
  const BATCH = 10_000;
  for (let from = 0; from < count; from += BATCH) {
    const records = [];
    for (let i = from; i < Math.min(count, from + BATCH); i++) {
      const k = keyOf(i);
      records.push({ key: encoder.encode(JSON.stringify(k)), value: encoder.encode(JSON.stringify({ k, v: i % 1000, t: baseTime + i })), timestamp: baseTime + i });
    }
    await log.produce(topic, records);
  }
}

export interface CommitStats {
  /** Of the commits that succeeded (a failed one fails the run). */
  durations: number[];
}

/** Collects the duration of every commit of the jobs in this process from the `sluice:commit` channel. */
export function watchCommits(): { stats: CommitStats; stop: () => void } {
  const stats: CommitStats = { durations: [] };
  const onCommit = (message: unknown): void => {
    const event = message as CommitEvent;
    if (event.ok) stats.durations.push(event.durationMs);
  };
  subscribe('sluice:commit', onCommit);
  return { stats, stop: () => unsubscribe('sluice:commit', onCommit) };
}

/** Peak resident set size of this process so far, MB. */
export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** The q-quantile (0..1) of ascending values, nearest rank. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
