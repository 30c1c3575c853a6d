/**
 * Stateless operators: filter, map, flatMap, and the identity used where streams merge.
 * An element is never changed once emitted: where a stream fans out, every branch reads the
 * same elements, so `map` and `flatMap` emit new elements and `filter` passes its input on.
 * Their functions run synchronously: one that returns a Promise is refused per record (its
 * value would be lost), reported to the error handler like any failure.
 */
import { SluiceError } from '../core/errors.ts';
import type { Element, Operator, Output } from './operator.ts';
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
  const where = element.source ? ` at ${element.source.topic}/${element.source.partition}@${element.source.offset}` : '';
  return new SluiceError(
    'USER_FUNCTION_FAILED',
    `${kind}() '${operator}' returned a Promise${where}: async functions are not supported in ${kind}(), which runs synchronously; make the function synchronous (no async/await), or call the service with .mapAsync((e) => lookup(e), { concurrency: 16, timeout: '5s' })`,
    { operator, ...(element.source ? { position: element.source } : {}) },
  );
}

/**
 * Keeps the elements whose value passes `fn`.
 * @example new FilterOperator('filter-1', (e) => e.action === 'click')
 */
export class FilterOperator<T> implements Operator<T, T> {
  readonly name: string;
  readonly #fn: (value: T) => boolean;
  readonly #onError: RecordErrorHandler;

  constructor(name: string, fn: (value: T) => boolean, onError: RecordErrorHandler = rethrow) {
    this.name = name;
    this.#fn = fn;
    this.#onError = onError;
  }

  process(batch: Element<T>[], out: Output<T>): void {
    const fn = this.#fn;
    for (let i = 0; i < batch.length; i++) {
      const element = batch[i];
      let keep: boolean;
      try {
        keep = fn(element.value);
      } catch (error) {
        this.#onError(element, error, this.name);
        continue;
      }
      if (keep === true) out.emit(element);
      else if (keep) {
        // Truthy but not true: the rare path, where a Promise (always truthy) would pass unseen.
        if (isThenable(keep)) this.#onError(element, asyncRefused(this.name, 'filter', element, keep), this.name);
        else out.emit(element);
      }
    }
  }
}

/**
 * Replaces each value by `fn(value)`; timestamp, key and source position stay.
 * @example new MapOperator('map-2', (e) => ({ user: e.user_id, amount: e.amount }))
 */
export class MapOperator<T, U> implements Operator<T, U> {
  readonly name: string;
  readonly #fn: (value: T) => U;
  readonly #onError: RecordErrorHandler;

  constructor(name: string, fn: (value: T) => U, onError: RecordErrorHandler = rethrow) {
    this.name = name;
    this.#fn = fn;
    this.#onError = onError;
  }

  process(batch: Element<T>[], out: Output<U>): void {
    const fn = this.#fn;
    for (let i = 0; i < batch.length; i++) {
      const element = batch[i];
      let value: U;
      try {
        value = fn(element.value);
      } catch (error) {
        this.#onError(element, error, this.name);
        continue;
      }
      if (typeof value === 'object' && value !== null && isThenable(value)) {
        this.#onError(element, asyncRefused(this.name, 'map', element, value), this.name);
        continue;
      }
      out.emit({ ...element, value });
    }
  }
}

/**
 * Replaces each value by the values of `fn(value)`.
 * @example new FlatMapOperator('flatMap-3', (line) => line.split(' '))
 */
export class FlatMapOperator<T, U> implements Operator<T, U> {
  readonly name: string;
  readonly #fn: (value: T) => Iterable<U>;
  readonly #onError: RecordErrorHandler;

  constructor(name: string, fn: (value: T) => Iterable<U>, onError: RecordErrorHandler = rethrow) {
    this.name = name;
    this.#fn = fn;
    this.#onError = onError;
  }

  process(batch: Element<T>[], out: Output<U>): void {
    for (let i = 0; i < batch.length; i++) {
      const element = batch[i];
      let values: U[];
      try {
        // Drain the iterable first, so a throw midway dead-letters the record without half its output.
        const result = this.#fn(element.value);
        values = Array.from(result);
        // A Promise is no iterable, and Array.from makes it [] silently: check only then.
        if (values.length === 0 && result !== null && typeof result === 'object' && isThenable(result)) throw asyncRefused(this.name, 'flatMap', element, result);
      } catch (error) {
        this.#onError(element, error, this.name);
        continue;
      }
      for (const value of values) out.emit({ ...element, value });
    }
  }
}

/** Passes elements on unchanged: union points and side-output taps. */
export class IdentityOperator<T> implements Operator<T, T> {
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  process(batch: Element<T>[], out: Output<T>): void {
    for (let i = 0; i < batch.length; i++) out.emit(batch[i]);
  }
}
