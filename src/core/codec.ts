import { SluiceError } from './errors.ts';
import { fromUtf8, utf8 } from './record.ts';

/** Turns values into bytes and back. JSON is the default; others plug in behind this interface. */
export interface Codec<T = unknown> {
  readonly name: string;
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

/** Values as their JSON text in UTF-8. */
export const jsonCodec: Codec<unknown> = {
  name: 'json',
  encode(value) {
    const text = JSON.stringify(value);
    if (text === undefined) {
      throw new SluiceError('INVALID_RECORD', `cannot encode ${typeof value} as JSON`);
    }
    return utf8(text);
  },
  decode(bytes) {
    const text = fromUtf8(bytes);
    try {
      return JSON.parse(text);
    } catch (cause) {
      throw new SluiceError('DECODE_FAILED', `value is not valid JSON: ${text.slice(0, 80)}`, { cause });
    }
  },
};

/** Strings as UTF-8 bytes. */
export const stringCodec: Codec<string> = {
  name: 'string',
  encode: (value) => utf8(value),
  decode: (bytes) => fromUtf8(bytes),
};

/** Bytes shown to people: the JSON value they hold when they are JSON, else their text; null stays null. */
export function jsonOrText(bytes: Uint8Array | null): unknown {
  if (bytes === null) return null;
  const text = fromUtf8(bytes);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
