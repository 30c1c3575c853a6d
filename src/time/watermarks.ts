/**
 * Watermark logic, in one place (DESIGN section 4).
 *
 * - `BoundedOutOfOrderness`: one source partition's watermark, advanced record by record in
 *   log order: `W = max(event time seen) - bound`, starting at -Infinity. Batching never changes
 *   it, which is what makes event-time results a function of the input log alone.
 * - combining several inputs' watermarks (the minimum, idleness included) is `Frontier`, in
 *   frontier.ts.
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
