/**
 * Stateless operators: filter, map, flatMap, and the identity used where streams merge.
 * An element is never changed once emitted: where a stream fans out, every branch reads the
 * same elements, so `map` and `flatMap` emit new elements and `filter` passes its input on.
 * Their functions run synchronously: one that returns a Promise is refused per record (its
 * value would be lost), reported to the error handler like any failure.
 *
 * Each is a `FusableOperator`: a task chains them into direct calls per record (`fuse`), with
 * no array and no element between them; `process` runs the same step over a batch.
 */
import { SluiceError } from '../core/errors.ts';
import { type Element, type FusableOperator, type FusedStep, type Operator, type Output, positionOf, type StepCounters, uncounted, withValue } from './operator.ts';
import { type RecordErrorHandler, rethrow } from './record-error.ts';

function isThenable(value: unknown): boolean {
  return typeof (value as { then?: unknown }).then === 'function';
}

/**
 * The error for a function that returned a Promise, naming the operator and the record. The
 * Promise's own failure is swallowed: the record is already reported, and an unhandled
 * rejection would stop the process.
 */
function asyncRefused(operator: string, kind: string, element: Element, promise: unknown): SluiceError {
  (promise as PromiseLike<unknown>).then(undefined, () => {});
  const position = positionOf(element);
  const where = position ? ` at ${position.topic}/${position.partition}@${position.offset}` : '';
  return new SluiceError(
    'USER_FUNCTION_FAILED',
    `${kind}() '${operator}' returned a Promise${where}: async functions are not supported in ${kind}(), which runs synchronously; make the function synchronous (no async/await), or call the service with .mapAsync((e) => lookup(e), { concurrency: 16, timeout: '5s' })`,
    { operator, ...(position ? { position } : {}) },
  );
}

/** The step that emits each value to `out`, as an element of its own only when the value changed. */
function emitTo(out: Output): FusedStep {
  return (value, from) => out.emit(withValue(from, value));
}

/** Runs `op`'s step over a batch, emitting to `out`. */
function runBatch(op: FusableOperator, batch: Element[], out: Output): void {
  const step = op.fuse(emitTo(out as Output), uncounted, 0);
  for (let i = 0; i < batch.length; i++) step(batch[i].value, batch[i]);
}

/**
 * Keeps the elements whose value passes `fn`.
 * @example new FilterOperator('filter-1', (e) => e.action === 'click')
 */
export class FilterOperator<T> implements Operator<T, T>, FusableOperator {
  readonly name: string;
  readonly #fn: (value: T) => boolean;
  readonly #onError: RecordErrorHandler;

  constructor(name: string, fn: (value: T) => boolean, onError: RecordErrorHandler = rethrow) {
    this.name = name;
    this.#fn = fn;
    this.#onError = onError;
  }

  process(batch: Element<T>[], out: Output<T>): void {
    runBatch(this, batch, out as Output);
  }

  fuse(next: FusedStep, counters: StepCounters, index: number): FusedStep {
    const fn = this.#fn as (value: unknown) => boolean;
    const onError = this.#onError;
    const name = this.name;
    const { in: ins, out: outs } = counters;
    return (value, from) => {
      ins[index]++;
      let keep: boolean;
      try {
        keep = fn(value);
      } catch (error) {
        onError(withValue(from, value), error, name);
        return;
      }
      if (keep !== true) {
        if (!keep) return;
        // Truthy but not true: the rare path, where a Promise (always truthy) would pass unseen.
        if (isThenable(keep)) {
          const element = withValue(from, value);
          onError(element, asyncRefused(name, 'filter', element, keep), name);
          return;
        }
      }
      outs[index]++;
      next(value, from);
    };
  }
}

/**
 * Replaces each value by `fn(value)`; timestamp, key and source position stay.
 * @example new MapOperator('map-2', (e) => ({ user: e.user_id, amount: e.amount }))
 */
export class MapOperator<T, U> implements Operator<T, U>, FusableOperator {
  readonly name: string;
  readonly #fn: (value: T) => U;
  readonly #onError: RecordErrorHandler;

  constructor(name: string, fn: (value: T) => U, onError: RecordErrorHandler = rethrow) {
    this.name = name;
    this.#fn = fn;
    this.#onError = onError;
  }

  process(batch: Element<T>[], out: Output<U>): void {
    runBatch(this, batch, out as Output);
  }

  fuse(next: FusedStep, counters: StepCounters, index: number): FusedStep {
    const fn = this.#fn as (value: unknown) => unknown;
    const onError = this.#onError;
    const name = this.name;
    const { in: ins, out: outs } = counters;
    return (value, from) => {
      ins[index]++;
      let result: unknown;
      try {
        result = fn(value);
      } catch (error) {
        onError(withValue(from, value), error, name);
        return;
      }
      if (typeof result === 'object' && result !== null && isThenable(result)) {
        const element = withValue(from, value);
        onError(element, asyncRefused(name, 'map', element, result), name);
        return;
      }
      outs[index]++;
      next(result, from);
    };
  }
}

/**
 * Replaces each value by the values of `fn(value)`.
 * @example new FlatMapOperator('flatMap-3', (line) => line.split(' '))
 */
export class FlatMapOperator<T, U> implements Operator<T, U>, FusableOperator {
  readonly name: string;
  readonly #fn: (value: T) => Iterable<U>;
  readonly #onError: RecordErrorHandler;

  constructor(name: string, fn: (value: T) => Iterable<U>, onError: RecordErrorHandler = rethrow) {
    this.name = name;
    this.#fn = fn;
    this.#onError = onError;
  }

  process(batch: Element<T>[], out: Output<U>): void {
    runBatch(this, batch, out as Output);
  }

  fuse(next: FusedStep, counters: StepCounters, index: number): FusedStep {
    const fn = this.#fn as (value: unknown) => Iterable<unknown>;
    const onError = this.#onError;
    const name = this.name;
    const { in: ins, out: outs } = counters;
    return (value, from) => {
      ins[index]++;
      let values: unknown[];
      try {
        // Drain the iterable first, so a throw midway dead-letters the record without half its output.
        const result = fn(value);
        values = Array.from(result);
        // A Promise is no iterable, and Array.from makes it [] silently: check only then.
        if (values.length === 0 && result !== null && typeof result === 'object' && isThenable(result)) throw asyncRefused(name, 'flatMap', withValue(from, value), result);
      } catch (error) {
        onError(withValue(from, value), error, name);
        return;
      }
      outs[index] += values.length;
      for (let i = 0; i < values.length; i++) next(values[i], from);
    };
  }
}

/** Passes elements on unchanged: union points and side-output taps. */
export class IdentityOperator<T> implements Operator<T, T>, FusableOperator {
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  process(batch: Element<T>[], out: Output<T>): void {
    for (let i = 0; i < batch.length; i++) out.emit(batch[i]);
  }

  fuse(next: FusedStep, counters: StepCounters, index: number): FusedStep {
    const { in: ins, out: outs } = counters;
    return (value, from) => {
      ins[index]++;
      outs[index]++;
      next(value, from);
    };
  }
}

/** Whether `op` can run fused into its neighbours' calls. */
export function isFusable(op: Operator): op is Operator & FusableOperator {
  return typeof (op as Partial<FusableOperator>).fuse === 'function';
}
