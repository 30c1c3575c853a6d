/**
 * AggregateSpec (what the user asked) -> an aggregate function the operators run:
 * `init()`, `add(acc, value, key)` returning the new accumulator, `merge(a, b)` for session
 * merges when the aggregate allows it, `result(acc)`.
 */
import type { AggregateSpec } from '../api/index.ts';

export interface AggregateFunction<A = any, R = unknown> {
  init(): A;
  add(acc: A, value: any, key: unknown): A;
  merge?(a: A, b: A): A;
  result(acc: A): R;
}

const NONE: unique symbol = Symbol('none');

function minMax(of: (value: any) => number, pick: (a: number, b: number) => number): AggregateFunction<number | null, number | null> {
  return {
    init: () => null,
    add: (acc, value) => {
      const x = of(value);
      return acc === null ? x : pick(acc, x);
    },
    merge: (a, b) => (a === null ? b : b === null ? a : pick(a, b)),
    result: (acc) => acc,
  };
}

export function aggregateFunction(spec: AggregateSpec): AggregateFunction {
  switch (spec.kind) {
    case 'count':
      return { init: () => 0, add: (acc: number) => acc + 1, merge: (a: number, b: number) => a + b, result: (acc: number) => acc };
    case 'sum': {
      const of = spec.of;
      return { init: () => 0, add: (acc: number, v) => acc + of(v), merge: (a: number, b: number) => a + b, result: (acc: number) => acc };
    }
    case 'min':
      return minMax(spec.of, Math.min);
    case 'max':
      return minMax(spec.of, Math.max);
    case 'avg': {
      const of = spec.of;
      return {
        init: () => [0, 0] as [number, number],
        add: (acc: [number, number], v) => {
          acc[0] += of(v);
          acc[1]++;
          return acc;
        },
        merge: (a: [number, number], b: [number, number]) => [a[0] + b[0], a[1] + b[1]],
        result: (acc: [number, number]) => (acc[1] === 0 ? null : acc[0] / acc[1]),
      };
    }
    case 'collect': {
      const of = spec.of;
      return {
        init: () => [] as unknown[],
        add: (acc: unknown[], v) => {
          acc.push(of ? of(v) : v);
          return acc;
        },
        merge: (a: unknown[], b: unknown[]) => a.concat(b),
        // A copy: a window that re-fires must not change a result already emitted.
        result: (acc: unknown[]) => acc.slice(),
      };
    }
    case 'reduce': {
      const fn = spec.fn;
      return {
        init: () => NONE,
        add: (acc, v) => (acc === NONE ? v : fn(acc, v)),
        merge: (a, b) => (a === NONE ? b : b === NONE ? a : fn(a, b)),
        result: (acc) => (acc === NONE ? null : acc),
      };
    }
    case 'aggregate': {
      const { init, add } = spec;
      // No merge: a user fold cannot combine two partial results, so sessions keep the records.
      return { init, add: (acc, v, key) => add(key, v, acc), result: (acc) => acc };
    }
  }
}
