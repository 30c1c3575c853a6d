/**
 * Window specifications as plain data: the DSL records them in the plan, the window
 * operator builds its assigner from them. All times are epoch milliseconds.
 */
export type WindowSpec =
  | { kind: 'tumbling'; sizeMs: number; offsetMs: number; time: TimeDomain }
  | { kind: 'hopping'; sizeMs: number; slideMs: number; offsetMs: number; time: TimeDomain }
  /** Each record's own window `[ts - lookbackMs, ts]`... see time/assigners for the exact rule. */
  | { kind: 'sliding'; lookbackMs: number; time: TimeDomain }
  | { kind: 'session'; gapMs: number; time: TimeDomain }
  | { kind: 'global'; trigger: TriggerSpec }
  | { kind: 'count-tumbling'; size: number }
  | { kind: 'count-sliding'; size: number; slide: number };

export type TimeDomain = 'event' | 'processing';

/** When a window emits besides its final result. */
export type TriggerSpec =
  | { kind: 'count'; every: number }
  | { kind: 'interval'; everyMs: number }
  | { kind: 'watermark' };

/** Emission mode: final only (default), or early updates before the final result. */
export type EmitSpec =
  | { kind: 'final' }
  | { kind: 'early-count'; every: number }
  | { kind: 'early-interval'; everyMs: number };

/** Late-data handling of a windowed stage. */
export interface LatenessSpec {
  allowedLatenessMs: number;
  /** Topic (or named side output) that receives records too late for every window. */
  lateSideOutput?: string;
}
