/**
 * Code generated once per query or source, for the per-record path: rows built as one object
 * literal, where adding the columns one by one walks V8's shape chain for each row (and a
 * dynamic key store per column), and column reads as functions of their own, whose property
 * load sees one key (a shared `(row) => row[key]` sees every column of every query, and goes
 * megamorphic). Names are quoted with JSON.stringify, so no name can change the generated code;
 * a column named `__proto__` (which a literal or a quoted load takes for the prototype) gets
 * rows built by defining each property, and its reads stay plain.
 */
import type { Row } from './types.ts';

/** The generated reader of each key, and the key of each reader (so a row builder can inline the load). */
const readers = new Map<string, (row: Row) => unknown>();
const keyOfReader = new WeakMap<(row: any) => unknown, string>();

/** `(row) => row[key]`, generated for `key`. */
export function fieldReader(key: string): (row: Row) => unknown {
  if (key === '__proto__') return (row) => row[key];
  let read = readers.get(key);
  if (read === undefined) {
    read = new Function('row', `return row[${JSON.stringify(key)}];`) as (row: Row) => unknown;
    readers.set(key, read);
    keyOfReader.set(read, key);
  }
  return read;
}

export function rowBuilder<T>(names: readonly string[], fns: readonly ((input: T) => unknown)[]): (input: T) => Row {
  if (names.includes('__proto__')) {
    return (input) => {
      const row: Row = {};
      for (let i = 0; i < names.length; i++) Object.defineProperty(row, names[i]!, { value: fns[i]!(input), enumerable: true, writable: true, configurable: true });
      return row;
    };
  }
  const fields = names
    .map((name, i) => {
      const key = keyOfReader.get(fns[i] as (row: any) => unknown);
      return `${JSON.stringify(name)}: ${key === undefined ? `f${i}(input)` : `input[${JSON.stringify(key)}]`}`;
    })
    .join(', ');
  return new Function(...fns.map((_f, i) => `f${i}`), `return (input) => ({ ${fields} });`)(...fns) as (input: T) => Row;
}

/**
 * Writes the named columns of a record into a row, each converted by its converter: a column
 * missing as written is looked up ignoring case (`lowerKeys` maps a record's lower-cased keys).
 */
export function fieldsFiller(
  columns: readonly string[],
  converters: readonly ((value: unknown) => unknown)[],
  lowerKeys: (value: Record<string, unknown>) => Map<string, string>,
): (value: Record<string, unknown>, row: Row) => Row {
  if (columns.includes('__proto__')) {
    return (value, row) => {
      let lower: Map<string, string> | undefined;
      for (let i = 0; i < columns.length; i++) {
        const name = columns[i]!;
        let v = Object.hasOwn(value, name) ? value[name] : undefined;
        if (v === undefined) {
          lower ??= lowerKeys(value);
          const key = lower.get(name);
          v = key === undefined || !Object.hasOwn(value, key) ? null : (value[key] ?? null);
        }
        Object.defineProperty(row, name, { value: converters[i]!(v), enumerable: true, writable: true, configurable: true });
      }
      return row;
    };
  }
  const steps = columns.map((name, i) => {
    const q = JSON.stringify(name);
    return `v = value[${q}]; if (v === undefined) { lower ??= lowerKeys(value); const k = lower.get(${q}); v = k === undefined ? null : (value[k] ?? null); } row[${q}] = c${i}(v);`;
  });
  return new Function('lowerKeys', ...converters.map((_c, i) => `c${i}`), `return (value, row) => { let v; let lower; ${steps.join(' ')} return row; };`)(lowerKeys, ...converters) as (value: Record<string, unknown>, row: Row) => Row;
}
