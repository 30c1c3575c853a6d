/**
 * Barrier alignment (Chandy-Lamport as Flink does it): a task reading several in-memory channels
 * snapshots for checkpoint N only when it has taken N's barrier from every input. An input whose
 * barrier came first is held back (its later items wait in its channel) until the others catch
 * up, so the snapshot covers exactly the records sent before the barrier on every input. Records
 * in flight are never stored: on restore every source rewinds to checkpoint N's offsets and sends
 * them again. An ended input counts as aligned for every later barrier.
 */
import type { ChannelItem } from './thread-channel.ts';

/** Something items can be taken from without waiting (a ChannelReader). */
export interface ItemSource {
  poll(): ChannelItem | undefined;
}

export type AlignedItem =
  /** An item of input `input`, in that input's order (barriers are not passed on). */
  | { kind: 'item'; input: number; item: Exclude<ChannelItem, { kind: 'barrier' }> }
  /** Every input passed checkpoint `id`'s barrier: snapshot now, then forward the barrier. */
  | { kind: 'aligned'; id: number };

export class BarrierAligner {
  readonly #inputs: readonly ItemSource[];
  readonly #blocked: boolean[];
  readonly #ended: boolean[];
  #endedCount = 0;
  /** The barrier being aligned, and how many inputs have passed it. */
  #pending: number | undefined;
  #arrived = 0;
  /** The last checkpoint aligned: barriers must come in increasing order. */
  #last = Number.NEGATIVE_INFINITY;
  #ready: number | undefined;
  #cursor = 0;

  constructor(inputs: readonly ItemSource[]) {
    if (inputs.length === 0) throw new RangeError('barrier alignment needs at least one input');
    this.#inputs = inputs;
    this.#blocked = inputs.map(() => false);
    this.#ended = inputs.map(() => false);
  }

  /** Every input ended (and no barrier waits to be reported). */
  get done(): boolean {
    return this.#endedCount === this.#inputs.length && this.#ready === undefined;
  }

  /** The checkpoint being aligned, if some input passed its barrier and others have not. */
  get aligning(): number | undefined {
    return this.#pending;
  }

  /** Whether input `input` is held back by an alignment. */
  blocked(input: number): boolean {
    return this.#blocked[input];
  }

  /** The next item to process, taking the inputs in turn; undefined when none can be taken now. */
  next(): AlignedItem | undefined {
    if (this.#ready !== undefined) return this.#release();
    const n = this.#inputs.length;
    for (let tried = 0; tried < n; tried++) {
      const input = this.#cursor;
      this.#cursor = (this.#cursor + 1) % n;
      if (this.#blocked[input] || this.#ended[input]) continue;
      const item = this.#inputs[input].poll();
      if (item === undefined) continue;
      if (item.kind === 'barrier') {
        this.#arrive(input, item.id);
        if (this.#ready !== undefined) return this.#release();
        tried = -1; // another input may still have items to give
        continue;
      }
      if (item.kind === 'end') {
        this.#ended[input] = true;
        this.#endedCount++;
        this.#checkAligned();
      }
      // Stay on an input that gives: batches are processed in runs, not item by item in turn.
      this.#cursor = input;
      return { kind: 'item', input, item };
    }
    return undefined;
  }

  #arrive(input: number, id: number): void {
    if (this.#pending === undefined) {
      if (!(id > this.#last)) throw new Error(`barrier ${id} on input ${input} after checkpoint ${this.#last}: barriers must increase`);
      this.#pending = id;
    } else if (id !== this.#pending) {
      throw new Error(`barrier ${id} on input ${input} while checkpoint ${this.#pending} is being aligned: the inputs disagree on the order of checkpoints`);
    }
    this.#blocked[input] = true;
    this.#arrived++;
    this.#checkAligned();
  }

  #checkAligned(): void {
    if (this.#pending === undefined || this.#arrived + this.#endedCount < this.#inputs.length) return;
    this.#ready = this.#pending;
  }

  #release(): AlignedItem {
    const id = this.#ready!;
    this.#ready = undefined;
    this.#pending = undefined;
    this.#arrived = 0;
    this.#last = id;
    this.#blocked.fill(false);
    return { kind: 'aligned', id };
  }
}
