/**
 * JSON with infinities. Watermarks start at -Infinity and a bounded run ends at +Infinity, which
 * JSON cannot hold (`JSON.stringify` writes null, losing the sign). Every JSON that carries them
 * (checkpoints, savepoint heads, snapshots in tests) writes them as the marked strings below;
 * state in memory and in msgpack keeps plain numbers, so operators never encode them themselves.
 * A string value equal to a mark (it starts with NUL) would read back as an infinity.
 */

export const POSITIVE_INFINITY_MARK = '\u0000+inf';
export const NEGATIVE_INFINITY_MARK = '\u0000-inf';

/** `JSON.stringify` replacer: infinities become their marks. */
export function infinityReplacer(_key: string, value: unknown): unknown {
  if (value === Number.POSITIVE_INFINITY) return POSITIVE_INFINITY_MARK;
  if (value === Number.NEGATIVE_INFINITY) return NEGATIVE_INFINITY_MARK;
  return value;
}

/** `JSON.parse` reviver: marks become infinities again. */
export function infinityReviver(_key: string, value: unknown): unknown {
  if (value === POSITIVE_INFINITY_MARK) return Number.POSITIVE_INFINITY;
  if (value === NEGATIVE_INFINITY_MARK) return Number.NEGATIVE_INFINITY;
  return value;
}

/** @example stringifyWithInfinities({ watermark: -Infinity }) // '{"watermark":"\u0000-inf"}' */
export function stringifyWithInfinities(value: unknown): string {
  return JSON.stringify(value, infinityReplacer);
}

export function parseWithInfinities(text: string): unknown {
  return JSON.parse(text, infinityReviver);
}
