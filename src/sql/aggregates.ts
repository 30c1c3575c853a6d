/**
 * SQL aggregates as one accumulator: COUNT(*), COUNT(x), COUNT(DISTINCT x), SUM, AVG, MIN and
 * MAX over a group are one array of per-aggregate states, folded by one `add` and combined by
 * one `merge` (sessions merge, hopping windows combine slices). Every step returns new state:
 * an accumulator the operator holds is never changed in place. States are plain JSON-able data,
 * so checkpoints and savepoints hold them as they are.
 */
import { sqlError, unsupported } from './errors.ts';
import { type Compiled, isNumeric, type SqlType } from './types.ts';

export interface AggregateDef {
  init(): unknown;
  add(state: unknown, row: unknown): unknown;
  merge(a: unknown, b: unknown): unknown;
  result(state: unknown): unknown;
  type: SqlType;
}

const larger = (a: any, b: any) => (a === null ? b : b === null ? a : b > a ? b : a);
const smaller = (a: any, b: any) => (a === null ? b : b === null ? a : b < a ? b : a);

/** The aggregate `name` over `arg` (undefined for COUNT(*)). */
export function aggregateDef(name: string, arg: Compiled | undefined, distinct: boolean, text: string, at: number): AggregateDef {
  if (distinct && name !== 'count') throw unsupported(text, at, `${name.toUpperCase()}(DISTINCT ...) is not supported; COUNT(DISTINCT x) is`);
  if (name === 'count') {
    if (arg === undefined) return { init: () => 0, add: (n: any) => n + 1, merge: (a: any, b: any) => a + b, result: (n) => n, type: 'bigint' };
    const of = arg.fn;
    if (distinct) {
      // The distinct values, by their JSON text: an object whose keys are the values seen.
      return {
        init: () => ({}),
        add: (seen: any, row) => {
          const v = of(row);
          if (v == null) return seen;
          const id = JSON.stringify(v);
          return id in seen ? seen : { ...seen, [id]: 1 };
        },
        merge: (a: any, b: any) => ({ ...a, ...b }),
        result: (seen: any) => Object.keys(seen).length,
        type: 'bigint',
      };
    }
    return { init: () => 0, add: (n: any, row) => (of(row) == null ? n : n + 1), merge: (a: any, b: any) => a + b, result: (n) => n, type: 'bigint' };
  }
  if (arg === undefined) throw sqlError(text, at, `${name.toUpperCase()}(*) is not defined; write ${name.toUpperCase()}(column)`);
  const of = arg.fn;
  switch (name) {
    case 'sum':
    case 'avg': {
      if (!isNumeric(arg.type) && arg.type !== 'interval') throw sqlError(text, at, `${name.toUpperCase()}() needs a number, got ${arg.type.toUpperCase()}; CAST(x AS DOUBLE) converts text`);
      // [sum, count of non-null values]: SUM of no values is NULL, as AVG of none.
      const add = (s: any, row: unknown) => {
        const v = of(row) as number | null;
        return v == null ? s : [s[0] + v, s[1] + 1];
      };
      const merge = (a: any, b: any) => [a[0] + b[0], a[1] + b[1]];
      if (name === 'sum') return { init: () => [0, 0], add, merge, result: (s: any) => (s[1] === 0 ? null : s[0]), type: arg.type === 'null' ? 'bigint' : arg.type };
      return { init: () => [0, 0], add, merge, result: (s: any) => (s[1] === 0 ? null : s[0] / s[1]), type: arg.type === 'interval' ? 'interval' : 'double' };
    }
    case 'min':
    case 'max': {
      const pick = name === 'min' ? smaller : larger;
      return { init: () => null, add: (s, row) => pick(s, of(row) ?? null), merge: pick, result: (s) => s, type: arg.type };
    }
    default:
      throw unsupported(text, at, `aggregate ${name}() is not supported; use COUNT, SUM, AVG, MIN or MAX`);
  }
}

/** Several aggregates as one: an array of their states. */
export function combine(defs: AggregateDef[]): { init: () => unknown[]; add: (key: unknown, row: unknown, acc: unknown[]) => unknown[]; merge: (a: unknown[], b: unknown[]) => unknown[]; results: (acc: unknown[]) => unknown[] } {
  return {
    init: () => defs.map((d) => d.init()),
    add: (_key, row, acc) => defs.map((d, i) => d.add(acc[i], row)),
    merge: (a, b) => defs.map((d, i) => d.merge(a[i], b[i])),
    results: (acc) => defs.map((d, i) => d.result(acc[i])),
  };
}
