/**
 * The hand-written baselines: each query as one plain loop over the events, no framework.
 * `eventAt(i)` decodes event i from the same stored bytes the engine reads; `emit` encodes
 * and keeps a result row. The watermark is the largest event time seen (bound 0, as the
 * engine's source has), and a window is emitted once the watermark reaches its end.
 */
import type { NexmarkEvent } from '../model.ts';

export type EventAt = (i: number) => NexmarkEvent;
export type Emit = (row: unknown) => void;
export type Handwritten = (count: number, eventAt: EventAt, emit: Emit) => void;
