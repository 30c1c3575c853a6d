/**
 * The frontier: one watermark combined from several inputs, the minimum over them (DESIGN
 * section 4: an operator's watermark is the minimum over its input partitions). Inputs are
 * numbered 0..n-1: a stage's upstream partitions, an operator's inputs inside a task, or the two
 * sides of a join.
 *
 * Idleness: an input silent for `idleTimeoutMs` (processing time, from an injected clock) stops
 * holding the minimum back; when every input is idle the frontier is the largest of theirs (as
 * Flink does), so an all-quiet input still completes what its data passed. An ended input
 * (bounded run) stands at +Infinity and is never idle. Idleness makes results depend on timing,
 * so it is off unless `idleTimeoutMs` is given.
 *
 * The frontier never goes back: an input that wakes up behind it has its records judged late by
 * their own `W_before`, as any late record.
 *
 * @example
 * const frontier = new Frontier(2, { idleTimeoutMs: 60_000, clock: () => clock.now() });
 * frontier.advance(0, gen0.watermark);
 * operator.onWatermark(frontier.current(), out);
 */
import { SluiceError } from '../core/errors.ts';

export interface FrontierOptions {
  /** Processing time after which a silent input no longer holds the minimum back. Default: never. */
  idleTimeoutMs?: number;
  /** Processing-time clock, epoch ms, read only when `idleTimeoutMs` is given. Injected so tests drive it by hand. */
  clock?: () => number;
}

export class Frontier {
  readonly #watermarks: number[];
  readonly #lastActive: number[];
  readonly #idleTimeoutMs: number;
  readonly #clock: () => number;
  #combined = Number.NEGATIVE_INFINITY;

  /** A frontier over `inputs` inputs, each holding it back from the start (at -Infinity). */
  constructor(inputs: number, options: FrontierOptions = {}) {
    if (!Number.isInteger(inputs) || inputs < 1) {
      throw new SluiceError('INVALID_ARGUMENT', `a frontier needs at least one input, got ${inputs}`);
    }
    this.#idleTimeoutMs = options.idleTimeoutMs ?? Number.POSITIVE_INFINITY;
    if (!(this.#idleTimeoutMs > 0)) {
      throw new SluiceError('INVALID_ARGUMENT', `idleTimeoutMs must be > 0 (omit it to never treat an input as idle), got ${this.#idleTimeoutMs}`);
    }
    this.#clock = this.#idleTimeoutMs === Number.POSITIVE_INFINITY ? () => 0 : (options.clock ?? Date.now);
    const now = this.#clock();
    this.#watermarks = new Array<number>(inputs).fill(Number.NEGATIVE_INFINITY);
    this.#lastActive = new Array<number>(inputs).fill(now);
  }

  /** The number of inputs. */
  get inputs(): number {
    return this.#watermarks.length;
  }

  #check(input: number): void {
    if (!(input >= 0 && input < this.#watermarks.length && Number.isInteger(input))) {
      throw new SluiceError('PARTITION_NOT_FOUND', `input ${input} is not an input of this frontier (it has inputs 0..${this.#watermarks.length - 1})`);
    }
  }

  /** An input produced records (or a watermark): it is active now, and its watermark rose to `watermark`. */
  advance(input: number, watermark: number): void {
    this.#check(input);
    this.#lastActive[input] = this.#clock();
    if (watermark > this.#watermarks[input]) this.#watermarks[input] = watermark;
  }

  /** An input's bounded stream ended: it stands at +Infinity. */
  end(input: number): void {
    this.advance(input, Number.POSITIVE_INFINITY);
  }

  /** An input's own watermark (the largest it reported). */
  watermark(input: number): number {
    this.#check(input);
    return this.#watermarks[input];
  }

  /** Whether an input is idle now (silent for at least `idleTimeoutMs`, and not ended). */
  isIdle(input: number): boolean {
    this.#check(input);
    return this.#idle(input, this.#clock());
  }

  #idle(input: number, now: number): boolean {
    return this.#watermarks[input] !== Number.POSITIVE_INFINITY && now - this.#lastActive[input] >= this.#idleTimeoutMs;
  }

  /** The combined watermark now: the minimum over active inputs (all idle: the largest). */
  current(): number {
    const now = this.#clock();
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    let active = 0;
    for (let i = 0; i < this.#watermarks.length; i++) {
      const w = this.#watermarks[i];
      if (w > max) max = w;
      if (this.#idle(i, now)) continue;
      active++;
      if (w < min) min = w;
    }
    const next = active > 0 ? min : max;
    if (next > this.#combined) this.#combined = next;
    return this.#combined;
  }
}
