/**
 * The user-facing builders. Each returns plain data (a WindowSpec, TriggerSpec or WatermarkSpec)
 * and validates at once, with a message that says what to write instead.
 *
 * "Sliding" means two things in the systems users come from, and both spellings are kept:
 * - `SlidingWindow.of(size, slide)` is Flink's `SlidingEventTimeWindows`: windows of `size` on a
 *   fixed grid, one starting every `slide`. That is a hopping window, and it returns a
 *   `HoppingWindowSpec`, the same value as `Windows.hopping(size, slide)`.
 * - `Windows.sliding(lookback)` is Kafka Streams' `SlidingWindows` (and SQL's `RANGE ... PRECEDING`):
 *   each record opens the window of its key's records in the `lookback` before it. It returns a
 *   `LookbackWindowSpec` (kind `'sliding'`).
 * Each builder's return type names its kind, so the two cannot be taken for each other.
 */
import { type Duration, toMillis } from '../core/duration.ts';
import { SluiceError } from '../core/errors.ts';
import type { WatermarkSpec } from './watermarks.ts';
import type { TimeDomain, TriggerSpec, WindowSpec } from './window-spec.ts';

/** Fixed, non-overlapping windows (`Windows.tumbling`, `TumblingWindow.of`). */
export type TumblingWindowSpec = Extract<WindowSpec, { kind: 'tumbling' }>;
/** Windows of a size on a fixed grid, one starting every slide (`Windows.hopping`, `HoppingWindow.of`, and Flink's spelling `SlidingWindow.of`). */
export type HoppingWindowSpec = Extract<WindowSpec, { kind: 'hopping' }>;
/** Per-record lookback windows (`Windows.sliding`): not on a grid, and not what `SlidingWindow.of` builds. */
export type LookbackWindowSpec = Extract<WindowSpec, { kind: 'sliding' }>;
/** Session windows (`Windows.session`, `SessionWindow.withGap`). */
export type SessionWindowSpec = Extract<WindowSpec, { kind: 'session' }>;
/** One window per key over all time, with a trigger (`Windows.global`). */
export type GlobalWindowSpec = Extract<WindowSpec, { kind: 'global' }>;
/** Windows of a number of records (`Windows.countTumbling`). */
export type CountTumblingWindowSpec = Extract<WindowSpec, { kind: 'count-tumbling' }>;
/** Windows of a number of records, one starting every `slide` records (`Windows.countSliding`). */
export type CountSlidingWindowSpec = Extract<WindowSpec, { kind: 'count-sliding' }>;

export interface TimeWindowOptions {
  /** Shifts the window grid from the epoch, e.g. `'15m'` for hourly windows at :15. Must be smaller than the size (or slide). */
  offset?: Duration;
  /** `'event'` (default) or `'processing'`: processing-time windows fire by the wall clock, not watermarks. */
  time?: TimeDomain;
}

function invalid(message: string): SluiceError {
  return new SluiceError('INVALID_ARGUMENT', message);
}

function positiveMs(duration: Duration, what: string, example: string): number {
  const ms = toMillis(duration, what);
  if (ms <= 0) throw invalid(`${what} must be greater than zero; write a duration such as ${example}`);
  return ms;
}

function positiveInt(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1) throw invalid(`${what} must be a whole number >= 1, got ${String(n)}`);
  return n;
}

function domain(time: TimeDomain | undefined): TimeDomain {
  if (time === undefined || time === 'event' || time === 'processing') return time ?? 'event';
  throw invalid(`time must be 'event' or 'processing', got ${String(time)}`);
}

function offsetMs(options: TimeWindowOptions | undefined, gridMs: number, what: string): number {
  const ms = options?.offset === undefined ? 0 : toMillis(options.offset, `${what} offset`);
  if (ms >= gridMs) {
    throw invalid(`${what} offset (${ms} ms) must be smaller than ${gridMs} ms; write offset ${ms % gridMs} ms for the same grid`);
  }
  return ms;
}

function hopping(sizeMs: number, slideMs: number, options: TimeWindowOptions | undefined): HoppingWindowSpec {
  if (slideMs > sizeMs) {
    throw invalid(
      `hopping window slide (${slideMs} ms) is larger than its size (${sizeMs} ms), so some records would fall in no window; use a slide <= size, or tumbling windows of the size`,
    );
  }
  return { kind: 'hopping', sizeMs, slideMs, offsetMs: offsetMs(options, slideMs, 'hopping window'), time: domain(options?.time) };
}

/** Window builders in the Duration spelling. */
export const Windows = {
  /**
   * Fixed, non-overlapping windows `[k * size + offset, (k + 1) * size + offset)`.
   * @example Windows.tumbling('1m') // per-minute windows
   * @example Windows.tumbling('1h', { offset: '15m', time: 'processing' })
   */
  tumbling(size: Duration, options?: TimeWindowOptions): TumblingWindowSpec {
    const sizeMs = positiveMs(size, 'tumbling window size', "'1m'");
    return { kind: 'tumbling', sizeMs, offsetMs: offsetMs(options, sizeMs, 'tumbling window'), time: domain(options?.time) };
  },

  /**
   * Overlapping windows of `size` starting every `slide`, on a fixed grid: what Flink calls
   * sliding windows (`SlidingWindow.of` is the same). Not `Windows.sliding`, which is per record.
   * @example Windows.hopping('1m', '20s') // each record is in 3 windows
   */
  hopping(size: Duration, slide: Duration, options?: TimeWindowOptions): HoppingWindowSpec {
    return hopping(positiveMs(size, 'hopping window size', "'1m'"), positiveMs(slide, 'hopping window slide', "'20s'"), options);
  },

  /**
   * Per-record lookback (Kafka Streams' sliding windows): each record opens the window
   * `[ts - lookback, ts]` over its key's records, so a result follows every record. This is not
   * Flink's sliding window: for windows of a size on a fixed grid every slide, use
   * `Windows.hopping(size, slide)` (or its Flink spelling `SlidingWindow.of(size, slide, unit)`).
   * @example Windows.sliding('10s') // per record: its key's records of the 10 s before it
   */
  sliding(lookback: Duration, options?: { time?: TimeDomain }): LookbackWindowSpec {
    return { kind: 'sliding', lookbackMs: positiveMs(lookback, 'sliding window lookback', "'10s'"), time: domain(options?.time) };
  },

  /**
   * Session windows: a record's own window is `[ts, ts + gap)`; overlapping windows of a key merge.
   * @example Windows.session('30s')
   */
  session(gap: Duration, options?: { time?: TimeDomain }): SessionWindowSpec {
    return { kind: 'session', gapMs: positiveMs(gap, 'session gap', "'30s'"), time: domain(options?.time) };
  },

  /**
   * One window per key over all time, emitting per its trigger and once more when the input ends.
   * @example Windows.global(Triggers.count(100))
   */
  global(trigger: TriggerSpec): GlobalWindowSpec {
    return { kind: 'global', trigger: validateTrigger(trigger) };
  },

  /**
   * Windows of `size` records per key; a partial last window fires when the input ends.
   * @example Windows.countTumbling(3) // over 1..10 sums to 6, 15, 24, 10
   */
  countTumbling(size: number): CountTumblingWindowSpec {
    return { kind: 'count-tumbling', size: positiveInt(size, 'count window size') };
  },

  /**
   * Windows of `size` records per key, one starting every `slide` records; only full windows fire
   * (plus, when the input ends, the first incomplete one if it holds records no fired window held).
   * @example Windows.countSliding(3, 1) // over 1..10 sums to 6, 9, 12, ..., 27
   */
  countSliding(size: number, slide: number): CountSlidingWindowSpec {
    positiveInt(size, 'count window size');
    positiveInt(slide, 'count window slide');
    if (slide > size) {
      throw invalid(`count window slide (${slide}) is larger than its size (${size}), so some records would fall in no window; use a slide <= size, or Windows.countTumbling(${size})`);
    }
    return { kind: 'count-sliding', size, slide };
  },
};

function validateTrigger(trigger: TriggerSpec): TriggerSpec {
  switch (trigger?.kind) {
    case 'count':
      return { kind: 'count', every: positiveInt(trigger.every, 'count trigger') };
    case 'interval':
      return { kind: 'interval', everyMs: positiveMs(trigger.everyMs, 'trigger interval', "'10s'") };
    case 'watermark':
      return { kind: 'watermark' };
    default:
      throw invalid('a global window needs a trigger; write Windows.global(Triggers.count(100)) or Triggers.interval(\'10s\') or Triggers.watermark()');
  }
}

/** Triggers of global windows. */
export const Triggers = {
  /**
   * Emits the key's running result after every `n` records of the key.
   * @example Windows.global(Triggers.count(100))
   */
  count(n: number): TriggerSpec {
    return { kind: 'count', every: positiveInt(n, 'count trigger') };
  },
  /**
   * Emits changed results each time the watermark crosses a multiple of `every` (event time).
   * @example Windows.global(Triggers.interval('1m'))
   */
  interval(every: Duration): TriggerSpec {
    return { kind: 'interval', everyMs: positiveMs(every, 'trigger interval', "'10s'") };
  },
  /**
   * Emits changed results on every watermark advance.
   * @example Windows.global(Triggers.watermark())
   */
  watermark(): TriggerSpec {
    return { kind: 'watermark' };
  },
};

/** Watermark strategies. */
export const Watermarks = {
  /**
   * A partition's watermark trails the largest event time seen by `bound`.
   * @example Watermarks.boundedOutOfOrderness('5s', { idleTimeout: '1m' })
   */
  boundedOutOfOrderness(bound: Duration, options?: { idleTimeout?: Duration }): WatermarkSpec {
    const spec: WatermarkSpec = { kind: 'bounded-out-of-orderness', boundMs: toMillis(bound, 'watermark bound') };
    if (options?.idleTimeout !== undefined) spec.idleTimeoutMs = positiveMs(options.idleTimeout, 'idle timeout', "'1m'");
    return spec;
  },
  /**
   * For sources whose event times never go back: bound 0.
   * @example Watermarks.monotonous()
   */
  monotonous(options?: { idleTimeout?: Duration }): WatermarkSpec {
    return Watermarks.boundedOutOfOrderness(0, options);
  },
};

/** A size in `unit`s (`of(5, MINUTES)`), or a Duration when no unit is given (`of('5m')`, `of(300000)`). */
function unitMs(size: Duration, unit: number | undefined, what: string, example: string): number {
  if (unit === undefined) return positiveMs(size, what, example);
  if (typeof size !== 'number' || !(unit > 0)) {
    throw invalid(`${what}: with a unit, give a number and a unit constant, e.g. ${example.replace(/'/g, '')}`);
  }
  return positiveMs(size * unit, what, example);
}

/** Flink-style spelling of tumbling windows. */
export const TumblingWindow = {
  /**
   * @example TumblingWindow.of(5, MINUTES)
   * @example TumblingWindow.of('5m')
   */
  of(size: Duration, unit?: number): TumblingWindowSpec {
    const sizeMs = unitMs(size, unit, 'tumbling window size', '5, MINUTES');
    return { kind: 'tumbling', sizeMs, offsetMs: 0, time: 'event' };
  },
};

/** Flink-style spelling of hopping windows. */
export const HoppingWindow = {
  /** @example HoppingWindow.of(10, 2, SECONDS) */
  of(size: Duration, slide: Duration, unit?: number): HoppingWindowSpec {
    return hopping(unitMs(size, unit, 'hopping window size', '10, SECONDS'), unitMs(slide, unit, 'hopping window slide', '2, SECONDS'), undefined);
  },
};

/**
 * Flink's spelling, kept for code written for Flink: `SlidingWindow.of` is Flink's
 * `SlidingEventTimeWindows.of(size, slide)`, windows of `size` on a fixed grid, one starting every
 * `slide`. Those are hopping windows: it returns a `HoppingWindowSpec`, equal to
 * `Windows.hopping(size, slide)`. It is not `Windows.sliding(lookback)`, the per-record lookback
 * window (a `LookbackWindowSpec`).
 */
export const SlidingWindow = {
  /**
   * Hopping windows of `size`, one every `slide`, in Flink's spelling.
   * @example SlidingWindow.of(10, 2, SECONDS) // the same as Windows.hopping('10s', '2s')
   */
  of(size: Duration, slide: Duration, unit?: number): HoppingWindowSpec {
    return HoppingWindow.of(size, slide, unit);
  },
};

/** Flink-style spelling of session windows. */
export const SessionWindow = {
  /**
   * @example SessionWindow.withGap(30, SECONDS)
   * @example SessionWindow.withGap('30s')
   */
  withGap(gap: Duration, unit?: number): SessionWindowSpec {
    const gapMs = unitMs(gap, unit, 'session gap', '30, SECONDS');
    return { kind: 'session', gapMs, time: 'event' };
  },
};
