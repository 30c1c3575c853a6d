/**
 * The one aggregate function every aggregating operator runs: windows of every kind and
 * running aggregates alike. `add` takes Kafka Streams' argument order `(key, value, acc)`, the
 * order of the public `aggregate(init, add)`, so a user's fold runs as given, unwrapped.
 * The built-ins below are what `count()`, `sum()`, `min()`, `max()`, `avg()`, `collect()` and
 * `reduce()` of the DSL run.
 */

/**
 * Incremental aggregation: one accumulator per key (and window). `merge` combines two
 * accumulators: session windows need it (a record that bridges two sessions merges them), and
 * hopping windows use it to aggregate panes once instead of every window. Accumulators go into
 * checkpoints, so they must be plain data (structured-cloneable and JSON-able).
 * @example
 * const total: AggregateFunction<string, { total: number }, number, number> = {
 *   init: () => 0,
 *   add: (_key, order, acc) => acc + order.total,
 *   merge: (a, b) => a + b,
 *   result: (acc) => acc,
 * };
 */
export interface AggregateFunction<K = any, V = any, A = any, R = unknown> {
  /** A new, empty accumulator. */
  init(): A;
  /** Folds one value of `key` into `acc` and returns the new accumulator (it may change `acc` in place). */
  add(key: K, value: V, acc: A): A;
  /** Combines two accumulators, `a` holding the earlier values; absent when the function cannot. */
  merge?(a: A, b: A): A;
  /** What is emitted for an accumulator. */
  result(acc: A): R;
}

const NONE: unique symbol = Symbol('none');
const sumOf = (a: number, b: number): number => a + b;
const same = <A>(acc: A): A => acc;

function minMax(of: (value: any) => number, pick: (a: number, b: number) => number): AggregateFunction<unknown, unknown, number | null, number | null> {
  return {
    init: () => null,
    add: (_key, value, acc) => {
      const x = of(value);
      return acc === null ? x : pick(acc, x);
    },
    merge: (a, b) => (a === null ? b : b === null ? a : pick(a, b)),
    result: same,
  };
}

/** The built-in aggregates, each with a merge. */
export const aggregates = {
  count(): AggregateFunction<unknown, unknown, number, number> {
    return { init: () => 0, add: (_key, _value, acc) => acc + 1, merge: sumOf, result: same };
  },
  sum(of: (value: any) => number): AggregateFunction<unknown, unknown, number, number> {
    return { init: () => 0, add: (_key, value, acc) => acc + of(value), merge: sumOf, result: same };
  },
  min(of: (value: any) => number): AggregateFunction<unknown, unknown, number | null, number | null> {
    return minMax(of, Math.min);
  },
  max(of: (value: any) => number): AggregateFunction<unknown, unknown, number | null, number | null> {
    return minMax(of, Math.max);
  },
  /** The mean, as `[sum, count]` while accumulating; null for no values. */
  avg(of: (value: any) => number): AggregateFunction<unknown, unknown, [number, number], number | null> {
    return {
      init: () => [0, 0],
      add: (_key, value, acc) => {
        acc[0] += of(value);
        acc[1]++;
        return acc;
      },
      merge: (a, b) => [a[0] + b[0], a[1] + b[1]],
      result: (acc) => (acc[1] === 0 ? null : acc[0] / acc[1]),
    };
  },
  /** The values (or `of(value)` of each) in arrival order: collect_list. */
  collect(of?: (value: any) => unknown): AggregateFunction<unknown, unknown, unknown[], unknown[]> {
    return {
      init: () => [],
      add: (_key, value, acc) => {
        acc.push(of ? of(value) : value);
        return acc;
      },
      merge: (a, b) => a.concat(b),
      // A copy: a window that re-fires must not change a result already emitted.
      result: (acc) => acc.slice(),
    };
  },
  /** Combines the values pairwise; null for no values. */
  reduce(fn: (a: any, b: any) => any): AggregateFunction<unknown, unknown, unknown, unknown> {
    return {
      init: () => NONE,
      add: (_key, value, acc) => (acc === NONE ? value : fn(acc, value)),
      merge: (a, b) => (a === NONE ? b : b === NONE ? a : fn(a, b)),
      result: (acc) => (acc === NONE ? null : acc),
    };
  },
  /** A user fold, `aggregate(init, add, { merge })`: the accumulator is the result. */
  fold(init: () => unknown, add: (key: any, value: any, acc: any) => unknown, merge?: (a: any, b: any) => unknown): AggregateFunction {
    return merge === undefined ? { init, add, result: same } : { init, add, merge, result: same };
  },
};
