/** The options the stages of a pipeline take (stream.ts lists the stages). */
import type { Duration } from '../core/index.ts';

/** Options common to stages: a stable name for state, metrics and errors. */
export interface StageOptions {
  name?: string;
}

/** Options of a windowed aggregate: a stable name, and whether it is a queryable store. */
export interface WindowStageOptions extends StageOptions {
  /**
   * Serve this aggregate's windows as the store `name`: `app.store(name)` reads them from the
   * operator's state while the app runs. Needs a `name`; the same as `.materialize(name)`.
   */
  queryable?: boolean;
}

/**
 * Options of `aggregate(init, add, options)`: a stable name, and `merge`, which combines two
 * accumulators (the earlier one first). Session windows need it: a record that bridges two
 * sessions merges them. Hopping windows use it to aggregate each slice of time once.
 */
export interface AggregateOptions<A> extends WindowStageOptions {
  merge?: (a: A, b: A) => A;
}

/** Options of `mapAsync()`. */
export interface MapAsyncOptions extends StageOptions {
  /** Calls running at once (default 16). */
  concurrency?: number;
  /** Per attempt (default '30s'); the call's `signal` aborts when it passes. */
  timeout?: Duration;
  /** Further attempts for a call that failed or timed out (default 0). */
  retries?: number;
  /** Wait before the first retry, doubled for each next one (default '100ms'). */
  retryBackoff?: Duration;
  /** Emit results as calls complete instead of in input order. */
  unordered?: boolean;
  /** Records held (running, waiting, done) before the pipeline reads no more input (default max(100, 4 x concurrency)). */
  capacity?: number;
}

/** When a window emits: `'final'` (default) once it fires, or early updates before that. */
export type EmitOption = 'final' | { everyRecords: number } | { every: Duration };
