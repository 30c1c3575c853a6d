/** A source's wait for its next records: `wait` until `wake` (records arrived) or a timeout. */
export class Arrivals {
  #wake: (() => void) | undefined;

  /** Resolves at the next `wake`, or after `timeoutMs`. */
  async wait(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
      timer = setTimeout(resolve, timeoutMs);
    });
    clearTimeout(timer);
    this.#wake = undefined;
  }

  /** Records arrived (or the source failed): a waiting reader goes on. */
  wake(): void {
    this.#wake?.();
  }
}
