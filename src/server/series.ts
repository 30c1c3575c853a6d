/**
 * One second of a job's history, as the dashboard charts it.
 */

export interface SeriesPoint {
  /** Wall clock, epoch ms. */
  time: number;
  inPerSec: number;
  outPerSec: number;
  /** End-to-end latency (ingest to committed output) percentiles over this second, ms; null without samples. */
  p50: number | null;
  p99: number | null;
  /** Processing latency (ingest to end of round) percentiles, ms. */
  processedP50: number | null;
  processedP99: number | null;
  lag: number;
  late: number;
  deadLetters: number;
  /** Watermark per source partition (`topic/partition`), epoch ms. */
  watermarks: Record<string, number | null>;
  /** Records per second per operator (`stage.index`), by records handed to it. */
  operators: Record<string, number>;
  /** Share of this second each operator spent working (0..1, summed over its tasks). */
  busy: Record<string, number>;
  /** Share of this second each thread of the run spent working (0..1), thread by thread; one entry for a run on one thread. */
  threads: number[];
  /** Pattern operators (`stage.index`): partial matches held now. */
  partialMatches?: Record<string, number>;
}

/** p50 and p99 of raw samples (nearest rank), or nulls when there are none. */
export function percentiles(samples: number[]): [number | null, number | null] {
  if (samples.length === 0) return [null, null];
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return [at(0.5), at(0.99)];
}
