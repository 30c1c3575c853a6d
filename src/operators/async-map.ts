/**
 * mapAsync (Flink's Async I/O): calls an async function per record with at most `concurrency`
 * calls running, emits results in input order (or as they complete, `ordered: false`), times out
 * and retries each call, and dead-letters a record whose calls all failed.
 *
 * The runtime's rounds are synchronous, so results wait in the operator's queue until the task
 * calls it again: every round (`onProcessingTime`), and sooner because a finished call `wake()`s
 * the job. Watermarks are held back behind pending records: the operator forwards the last input
 * watermark that arrived before its oldest pending record, so no window downstream fires ahead of
 * a record still being looked up. While the queue holds `capacity` records it is `saturated`, and
 * the job reads no more input (backpressure).
 *
 * Checkpoints: the snapshot is the queue's records not yet emitted (their calls are made again on
 * restore), so a record's result is emitted exactly once across crashes; the call itself may run
 * again, as in Flink.
 */
import { SluiceError } from '../core/index.ts';
import { type Element, type Operator, type Output, positionOf, sourceField } from './operator.ts';
import { type RecordErrorHandler, rethrow } from './record-error.ts';

export interface AsyncMapOptions {
  /** Calls running at once. */
  concurrency: number;
  /** Per attempt; a timed-out attempt's signal is aborted. */
  timeoutMs: number;
  /** Attempts after the first, for a call that failed or timed out. */
  retries: number;
  /** Wait before the first retry; doubled for each next one. */
  retryBackoffMs: number;
  /** Emit in input order (default) or as calls complete. */
  ordered: boolean;
  /** Records queued (running, waiting or done) before the job reads no more input. */
  capacity: number;
}

/** What the user's function gets besides the value: abort the work when the attempt timed out. */
export interface AsyncCallContext {
  signal: AbortSignal;
  /** 0 for the first attempt. */
  attempt: number;
}

interface Entry {
  element: Element;
  /** The input watermark when the record arrived: safe to forward while it is pending. */
  watermarkBefore: number;
  state: 'waiting' | 'running' | 'done' | 'failed';
  result?: unknown;
  error?: unknown;
}

/** The snapshot: records taken in and not yet emitted, in input order. */
interface AsyncMapSnapshot {
  pending: { value: unknown; timestamp: number; key?: unknown; sourceWatermark: number; source?: Element['source']; watermarkBefore: number }[];
}

export class AsyncMapOperator implements Operator {
  readonly name: string;
  readonly #fn: (value: any, context: AsyncCallContext) => unknown;
  readonly #options: AsyncMapOptions;
  readonly #onError: RecordErrorHandler;
  readonly #wake: () => void;
  #queue: Entry[] = [];
  #running = 0;
  #lastInput = Number.NEGATIVE_INFINITY;
  #closed = false;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(name: string, fn: (value: any, context: AsyncCallContext) => unknown, options: AsyncMapOptions, onError: RecordErrorHandler = rethrow, wake: () => void = () => {}) {
    this.name = name;
    this.#fn = fn;
    this.#options = options;
    this.#onError = onError;
    this.#wake = wake;
  }

  process(batch: Element[], out: Output): void {
    for (const element of batch) this.#queue.push({ element, watermarkBefore: this.#lastInput, state: 'waiting' });
    this.#start();
    this.#emit(out);
  }

  onWatermark(watermark: number, out: Output): number {
    this.#lastInput = watermark;
    this.#emit(out);
    const oldest = this.#queue[0];
    return oldest === undefined ? watermark : Math.min(watermark, oldest.watermarkBefore);
  }

  onProcessingTime(_now: number, out: Output): void {
    this.#emit(out);
  }

  /** Records taken in and not yet emitted. */
  pending(): number {
    return this.#queue.length;
  }

  /** The queue is full: read no more input until it drains. */
  saturated(): boolean {
    return this.#queue.length >= this.#options.capacity;
  }

  snapshot(): AsyncMapSnapshot | null {
    if (this.#queue.length === 0) return null;
    return {
      pending: this.#queue.map(({ element: e, watermarkBefore }) => ({
        value: e.value,
        timestamp: e.timestamp,
        ...(e.key === undefined ? {} : { key: e.key }),
        sourceWatermark: e.sourceWatermark,
        ...sourceField(e),
        watermarkBefore,
      })),
    };
  }

  restore(snapshot: unknown): void {
    const saved = snapshot as AsyncMapSnapshot;
    this.#queue = saved.pending.map(({ watermarkBefore, ...element }) => ({ element: element as Element, watermarkBefore, state: 'waiting' as const }));
    this.#start();
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  /** Starts waiting calls while fewer than `concurrency` run. */
  #start(): void {
    const { concurrency } = this.#options;
    for (const entry of this.#queue) {
      if (this.#running >= concurrency) return;
      if (entry.state !== 'waiting') continue;
      entry.state = 'running';
      this.#running++;
      void this.#call(entry);
    }
  }

  async #call(entry: Entry): Promise<void> {
    const { timeoutMs, retries, retryBackoffMs } = this.#options;
    let lastError: unknown;
    for (let attempt = 0; attempt <= retries && !this.#closed; attempt++) {
      if (attempt > 0) await this.#sleep(retryBackoffMs * 2 ** (attempt - 1));
      const controller = new AbortController();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = this.#timer(() => {
          const error = new SluiceError('USER_FUNCTION_FAILED', `mapAsync() '${this.name}': the call timed out after ${timeoutMs} ms${where(entry.element)}`, { operator: this.name });
          controller.abort(error);
          reject(error);
        }, timeoutMs);
      });
      try {
        const call = Promise.resolve().then(() => this.#fn(entry.element.value, { signal: controller.signal, attempt }));
        // A call that fails after its attempt timed out has nobody waiting for it.
        call.catch(() => {});
        entry.result = await Promise.race([call, timeout]);
        entry.state = 'done';
        break;
      } catch (error) {
        lastError = error;
      } finally {
        if (timer !== undefined) {
          clearTimeout(timer);
          this.#timers.delete(timer);
        }
      }
    }
    if (entry.state !== 'done') {
      entry.state = 'failed';
      entry.error = lastError;
    }
    this.#running--;
    if (this.#closed) return;
    this.#start();
    this.#wake();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#timer(resolve, ms));
  }

  /** A timer `close()` cancels (an attempt's timeout, a retry's backoff). */
  #timer(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
    return timer;
  }

  /** Emits finished records: the finished prefix in order, or every finished one unordered. */
  #emit(out: Output): void {
    const queue = this.#queue;
    if (queue.length === 0) return;
    if (this.#options.ordered) {
      let n = 0;
      while (n < queue.length && (queue[n].state === 'done' || queue[n].state === 'failed')) n++;
      if (n === 0) return;
      const finished = queue.splice(0, n);
      for (const entry of finished) this.#output(entry, out);
      return;
    }
    if (!queue.some((e) => e.state === 'done' || e.state === 'failed')) return;
    const keep: Entry[] = [];
    for (const entry of queue) {
      if (entry.state === 'done' || entry.state === 'failed') this.#output(entry, out);
      else keep.push(entry);
    }
    this.#queue = keep;
  }

  #output(entry: Entry, out: Output): void {
    if (entry.state === 'failed') {
      const cause = entry.error;
      const error = cause instanceof SluiceError ? cause : new SluiceError('USER_FUNCTION_FAILED', `mapAsync() '${this.name}' failed${where(entry.element)}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause, operator: this.name });
      this.#onError(entry.element, error, this.name);
      return;
    }
    out.emit({ ...entry.element, value: entry.result });
  }
}

function where(element: Element): string {
  const position = positionOf(element);
  return position ? ` at ${position.topic}/${position.partition}@${position.offset}` : '';
}
