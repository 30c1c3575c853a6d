/**
 * A manual processing-time clock: time moves only when the test moves it.
 */
export class ManualClock {
  #now: number;

  constructor(start = 0) {
    this.#now = start;
  }

  /** The current time, epoch ms. Pass `clock.now` where a `() => number` clock is wanted. */
  readonly now = (): number => this.#now;

  set(time: number): void {
    this.#now = time;
  }

  advance(ms: number): number {
    this.#now += ms;
    return this.#now;
  }
}
