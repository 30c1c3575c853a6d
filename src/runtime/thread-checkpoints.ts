/**
 * One decision for a checkpoint taken across threads: each thread (task) hands in its part for
 * checkpoint N (its snapshot, the offsets it read, the output it holds) once it has aligned N's
 * barrier; when every part of N is in, `decide` runs once for N, and checkpoints are decided in
 * order (N before N + 1), so the committer makes everything of N durable as one. A checkpoint
 * some thread never completes (a crash) is never decided: the restore starts from the last
 * decided one, and its parts are dropped.
 */
export class CheckpointVotes<Part> {
  readonly #voters: number;
  readonly #decide: (id: number, parts: Part[]) => Promise<void>;
  readonly #parts = new Map<number, (Part | undefined)[]>();
  readonly #counts = new Map<number, number>();
  /** Each voter's last checkpoint: a voter hands in its parts in checkpoint order. */
  readonly #last: number[];
  #chain: Promise<void> = Promise.resolve();
  #decided = Number.NEGATIVE_INFINITY;
  #failed: unknown;

  constructor(voters: number, decide: (id: number, parts: Part[]) => Promise<void>) {
    if (!(voters >= 1)) throw new RangeError('a checkpoint needs at least one voter');
    this.#voters = voters;
    this.#decide = decide;
    this.#last = new Array<number>(voters).fill(Number.NEGATIVE_INFINITY);
  }

  /** The last checkpoint decided (committed), -Infinity before the first. */
  get decided(): number {
    return this.#decided;
  }

  /** Voter `voter`'s part of checkpoint `id`. */
  vote(id: number, voter: number, part: Part): void {
    if (!(voter >= 0 && voter < this.#voters)) throw new RangeError(`voter ${voter} of ${this.#voters}`);
    if (!(id > this.#last[voter])) throw new Error(`voter ${voter} voted for checkpoint ${id} after checkpoint ${this.#last[voter]}: parts come in checkpoint order`);
    this.#last[voter] = id;
    let parts = this.#parts.get(id);
    if (parts === undefined) {
      parts = new Array<Part | undefined>(this.#voters).fill(undefined);
      this.#parts.set(id, parts);
    }
    parts[voter] = part;
    const count = (this.#counts.get(id) ?? 0) + 1;
    this.#counts.set(id, count);
    if (count < this.#voters) return;
    // Every part is in. Each voter votes in checkpoint order, so N was complete (and queued) before N + 1 could be.
    this.#parts.delete(id);
    this.#counts.delete(id);
    const complete = parts as Part[];
    this.#chain = this.#chain.then(async () => {
      if (this.#failed !== undefined) return;
      try {
        await this.#decide(id, complete);
        this.#decided = id;
      } catch (error) {
        this.#failed = error;
      }
    });
  }

  /** Resolves when every complete checkpoint so far is decided; rejects with a failed decision. */
  async settled(): Promise<void> {
    await this.#chain;
    if (this.#failed !== undefined) throw this.#failed;
  }
}
