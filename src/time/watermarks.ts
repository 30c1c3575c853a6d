/**
 * Watermark logic, in one place (DESIGN section 4).
 *
 * - `BoundedOutOfOrderness`: one source partition's watermark, advanced record by record in
 *   log order: `W = max(event time seen) - bound`, starting at -Infinity. Batching never changes
 *   it, which is what makes event-time results a function of the input log alone.
 * - `WatermarkTracker`: an operator's watermark, the minimum over its input partitions. A
 *   partition idle for `idleTimeoutMs` (processing time, from an injected clock) stops holding
 *   the minimum back; a partition that ended (bounded run) stands at +Infinity.
 */
import { SluiceError } from '../core/errors.ts';

/** A watermark strategy as plain data, recorded in the plan. */
export interface WatermarkSpec {
  kind: 'bounded-out-of-orderness';
  /** How far behind the largest event time seen the watermark stays. 0 for in-order sources. */
  boundMs: number;
  /** A partition with no record for this long stops holding the operator watermark back. */
  idleTimeoutMs?: number;
}

/**
 * The watermark of one source partition under bounded out-of-orderness.
 * @example
 * const gen = new BoundedOutOfOrderness(5000);
 * const wBefore = gen.observe(record.timestamp); // stamp the record, then advance
 */
export class BoundedOutOfOrderness {
  readonly boundMs: number;
  private maxSeen = Number.NEGATIVE_INFINITY;
  private ended = false;

  constructor(boundMs: number) {
    if (!(boundMs >= 0) || !Number.isFinite(boundMs)) {
      throw new SluiceError('INVALID_ARGUMENT', `watermark bound must be a finite number of milliseconds >= 0, got ${boundMs}`);
    }
    this.boundMs = boundMs;
  }

  /** The partition's current watermark. */
  get watermark(): number {
    return this.ended ? Number.POSITIVE_INFINITY : this.maxSeen - this.boundMs;
  }

  /**
   * Takes the next record of the partition, in log order. Returns the watermark just before it
   * (its `W_before`, carried on the record as `sourceWatermark`), then advances.
   */
  observe(eventTime: number): number {
    const before = this.watermark;
    if (eventTime > this.maxSeen) this.maxSeen = eventTime;
    return before;
  }

  /** The partition's input ended (a bounded run): every window may fire. */
  end(): void {
    this.ended = true;
  }

  snapshot(): { maxSeen: number; ended: boolean } {
    return { maxSeen: this.maxSeen, ended: this.ended };
  }

  restore(state: { maxSeen: number | null; ended: boolean }): void {
    // JSON turns -Infinity into null; accept both.
    this.maxSeen = state.maxSeen ?? Number.NEGATIVE_INFINITY;
    this.ended = state.ended;
  }
}

/** Builds the generator for one source partition from a strategy. */
export function createGenerator(spec: WatermarkSpec): BoundedOutOfOrderness {
  return new BoundedOutOfOrderness(spec.boundMs);
}

export type PartitionId = string | number;

export interface WatermarkTrackerOptions {
  /** The input partitions; each holds the minimum back from the start (at -Infinity). */
  partitions: Iterable<PartitionId>;
  /** Processing time after which a silent partition no longer holds the minimum back. Default: never. */
  idleTimeoutMs?: number;
  /** Processing-time clock, epoch ms. Injected so tests drive it by hand. */
  clock?: () => number;
}

interface PartitionProgress {
  watermark: number;
  lastActive: number;
}

/**
 * Combines partition watermarks into an operator watermark: the minimum over active partitions.
 * Idleness makes the result depend on timing, so it is off unless `idleTimeoutMs` is given.
 * The combined watermark never goes back: a partition that wakes up behind it has its records
 * judged late by their own `W_before`, as any late record.
 */
/**
 * @example
 * const tracker = new WatermarkTracker({ partitions: [0, 1], idleTimeoutMs: 60_000, clock: () => clock.now() });
 * tracker.advance(0, gen0.watermark);
 * operator.onWatermark(tracker.current(), out);
 */
export class WatermarkTracker {
  private readonly partitions = new Map<PartitionId, PartitionProgress>();
  private readonly idleTimeoutMs: number;
  private readonly clock: () => number;
  private combined = Number.NEGATIVE_INFINITY;

  constructor(options: WatermarkTrackerOptions) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? Number.POSITIVE_INFINITY;
    if (!(this.idleTimeoutMs > 0)) {
      throw new SluiceError('INVALID_ARGUMENT', `idleTimeoutMs must be > 0 (omit it to never treat a partition as idle), got ${this.idleTimeoutMs}`);
    }
    this.clock = options.clock ?? Date.now;
    const now = this.clock();
    for (const id of options.partitions) this.partitions.set(id, { watermark: Number.NEGATIVE_INFINITY, lastActive: now });
    if (this.partitions.size === 0) {
      throw new SluiceError('INVALID_ARGUMENT', 'a WatermarkTracker needs at least one input partition');
    }
  }

  private partition(id: PartitionId): PartitionProgress {
    const progress = this.partitions.get(id);
    if (!progress) {
      throw new SluiceError('PARTITION_NOT_FOUND', `partition ${String(id)} is not an input of this watermark tracker; pass it in options.partitions`);
    }
    return progress;
  }

  /** A partition produced records (or a watermark): it is active now, and its watermark rose to `watermark`. */
  advance(id: PartitionId, watermark: number): void {
    const progress = this.partition(id);
    progress.lastActive = this.clock();
    if (watermark > progress.watermark) progress.watermark = watermark;
  }

  /** A partition's bounded input ended: it stands at +Infinity. */
  end(id: PartitionId): void {
    this.advance(id, Number.POSITIVE_INFINITY);
  }

  /** Whether a partition is idle now (silent for at least `idleTimeoutMs`, and not ended). */
  isIdle(id: PartitionId): boolean {
    const progress = this.partition(id);
    return progress.watermark !== Number.POSITIVE_INFINITY && this.clock() - progress.lastActive >= this.idleTimeoutMs;
  }

  /**
   * The operator watermark now: the minimum over active partitions. When every partition is
   * idle, the maximum of theirs (as Flink does), so an all-quiet input still completes windows
   * its data passed.
   */
  current(): number {
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    let active = 0;
    for (const [id, progress] of this.partitions) {
      if (progress.watermark > max) max = progress.watermark;
      if (this.isIdle(id)) continue;
      active++;
      if (progress.watermark < min) min = progress.watermark;
    }
    const next = active > 0 ? min : max;
    if (next > this.combined) this.combined = next;
    return this.combined;
  }
}
