/**
 * Window assigners: which windows `[start, end)` (epoch ms, aligned to the epoch plus an offset)
 * a record with time `ts` belongs to. Pure functions of the spec and the time, so the operator,
 * the planner and tests agree on window boundaries. Processing-time windows use the same
 * assigners on the processing time at which a record reaches the operator.
 */
import { SluiceError } from '../core/errors.ts';
import type { WindowSpec } from './window-spec.ts';

/** A window `[start, end)` in epoch milliseconds (record positions for count windows). */
export interface Interval {
  start: number;
  end: number;
}

/** Bounds of the global window: the whole range of a JavaScript Date, so results stay valid JSON and dates. */
export const GLOBAL_START = -8_640_000_000_000_000;
export const GLOBAL_END = 8_640_000_000_000_000;

/**
 * Start of the window of length `stepMs` that holds `ts`, on the grid `offsetMs + k * stepMs`.
 * @example alignedStart(125_000, 60_000, 0) // 120000
 */
export function alignedStart(ts: number, stepMs: number, offsetMs: number): number {
  const rem = (ts - offsetMs) % stepMs;
  return ts - (rem < 0 ? rem + stepMs : rem);
}

/** The tumbling window holding `ts`. */
export function tumblingWindow(ts: number, sizeMs: number, offsetMs = 0): Interval {
  const start = alignedStart(ts, sizeMs, offsetMs);
  return { start, end: start + sizeMs };
}

/** Every hopping window holding `ts`, oldest first (so in window-end order). */
export function hoppingWindows(ts: number, sizeMs: number, slideMs: number, offsetMs = 0): Interval[] {
  const windows: Interval[] = [];
  for (let start = alignedStart(ts, slideMs, offsetMs); start > ts - sizeMs; start -= slideMs) {
    windows.push({ start, end: start + sizeMs });
  }
  return windows.reverse();
}

/**
 * A sliding window is a record's lookback: the record at `ts` opens `[ts - lookbackMs, ts + 1)`,
 * holding every record of its key from `ts - lookbackMs` to `ts` inclusive (as Kafka Streams'
 * sliding windows and SQL's `RANGE BETWEEN lookback PRECEDING AND CURRENT ROW` do).
 */
export function slidingWindow(ts: number, lookbackMs: number): Interval {
  return { start: ts - lookbackMs, end: ts + 1 };
}

/**
 * The ends of the sliding windows that hold `ts`: a window opened at `t` holds `ts` when
 * `t - lookbackMs <= ts <= t`, so its end `t + 1` lies in `[ts + 1, ts + lookbackMs + 1]`.
 */
export function slidingEndsHolding(ts: number, lookbackMs: number): { minEnd: number; maxEnd: number } {
  return { minEnd: ts + 1, maxEnd: ts + lookbackMs + 1 };
}

/** A record's own session window `[ts, ts + gap)`; overlapping windows of a key merge. */
export function sessionWindow(ts: number, gapMs: number): Interval {
  return { start: ts, end: ts + gapMs };
}

/** Whether two windows share time. Adjacent windows (`a.end === b.start`) do not overlap. */
export function overlaps(a: Interval, b: Interval): boolean {
  return a.start < b.end && b.start < a.end;
}

/**
 * Count windows, by record position (0-based) within a key: window `k` covers positions
 * `[k * slide, k * slide + size)`. Returns the windows holding position `index`, oldest first.
 */
export function countWindows(index: number, size: number, slide: number): Interval[] {
  const windows: Interval[] = [];
  for (let start = index - (index % slide); start > index - size && start >= 0; start -= slide) {
    windows.push({ start, end: start + size });
  }
  return windows.reverse();
}

/**
 * The windows a record at time `ts` is assigned to on arrival, in window-end order: all of
 * them for tumbling and hopping, its own window for sliding and session windows (which then
 * gather other records by lookback or merging), the global window. Count windows are assigned
 * by position, with `countWindows`.
 */
export function assignWindows(spec: WindowSpec, ts: number): Interval[] {
  switch (spec.kind) {
    case 'tumbling':
      return [tumblingWindow(ts, spec.sizeMs, spec.offsetMs)];
    case 'hopping':
      return hoppingWindows(ts, spec.sizeMs, spec.slideMs, spec.offsetMs);
    case 'sliding':
      return [slidingWindow(ts, spec.lookbackMs)];
    case 'session':
      return [sessionWindow(ts, spec.gapMs)];
    case 'global':
      return [{ start: GLOBAL_START, end: GLOBAL_END }];
    default:
      throw new SluiceError('INVALID_ARGUMENT', `${spec.kind} windows are assigned by record position; use countWindows`);
  }
}
