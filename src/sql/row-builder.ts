/**
 * Rows built as one object literal, generated once per query or source: every row gets its
 * final shape at once, where adding the columns one by one walks V8's shape chain for each row
 * (and a dynamic key store per column). Column names are quoted with JSON.stringify, so no
 * name can change the generated code; a column named `__proto__` (which a literal would take
 * for the prototype) gets rows built by defining each property instead.
 */
import type { Row } from './types.ts';

export function rowBuilder<T>(names: readonly string[], fns: readonly ((input: T) => unknown)[]): (input: T) => Row {
  if (names.includes('__proto__')) {
    return (input) => {
      const row: Row = {};
      for (let i = 0; i < names.length; i++) Object.defineProperty(row, names[i]!, { value: fns[i]!(input), enumerable: true, writable: true, configurable: true });
      return row;
    };
  }
  const fields = names.map((name, i) => `${JSON.stringify(name)}: f${i}(input)`).join(', ');
  return new Function(...fns.map((_f, i) => `f${i}`), `return (input) => ({ ${fields} });`)(...fns) as (input: T) => Row;
}
