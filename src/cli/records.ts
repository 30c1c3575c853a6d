/**
 * The CLI's record format: JSON lines in (`sluice produce`) and out (`sluice consume`).
 *
 * In: a line is parsed as JSON. It is a record *envelope* when it is an object that has a
 * "key" or a "value" field and no fields other than key, value, timestamp, headers and partition;
 * anything else (a number, a string, an array, null, or an object with other fields) is a *bare
 * value*: a record with that value and no key. In an envelope:
 * - key: a string is stored as its UTF-8 bytes, null or absent as no key, anything else as its JSON text;
 * - value: stored as its JSON text; null or absent is a null value (a tombstone);
 * - timestamp: epoch milliseconds, a non-negative integer; absent means now;
 * - headers: an object of string values, stored as UTF-8;
 * - partition: an explicit partition; absent means murmur2(key) % partitions for keyed records.
 *
 * Out: `{"topic","partition","offset","timestamp","key","value","headers"}`, key and value decoded
 * as UTF-8 and parsed back from JSON when they are JSON, else the string; null stays null; bytes
 * that are not UTF-8 as `{"$base64": ...}` (see OutputFormat for the other formats).
 */
import { type Headers, utf8 } from '../core/index.ts';
import type { BatchRecord, ProduceRecord } from '../log/index.ts';

const ENVELOPE_FIELDS = new Set(['key', 'value', 'timestamp', 'headers', 'partition']);

/** Why a line cannot be a record; the caller adds the line number. */
export class LineError extends Error {
  override name = 'LineError';
  /** The line's record is larger than the topic accepts (RECORD_TOO_LARGE rather than INVALID_RECORD). */
  readonly tooLarge: boolean;

  constructor(message: string, tooLarge = false) {
    super(message);
    this.tooLarge = tooLarge;
  }
}

/** Deeper JSON is refused: parsing and printing it again would run out of stack. */
export const MAX_JSON_DEPTH = 1000;

/** Parses one input line (already known not to be blank) into a record, or throws a LineError. */
export function parseRecordLine(line: string, now: number): ProduceRecord {
  // Each level takes at least two characters, so only long lines can be too deep.
  if (line.length > 2 * MAX_JSON_DEPTH && jsonDepth(line) > MAX_JSON_DEPTH) {
    throw new LineError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw new LineError(`not valid JSON (${(error as Error).message})`);
  }
  if (!isEnvelope(parsed)) return { key: null, value: utf8(JSON.stringify(parsed)), timestamp: now };
  const record: ProduceRecord = {
    key: encodeKey(parsed.key),
    value: parsed.value === undefined || parsed.value === null ? null : utf8(JSON.stringify(parsed.value)),
    timestamp: parsed.timestamp === undefined ? now : checkTimestamp(parsed.timestamp),
  };
  if (parsed.headers !== undefined) record.headers = encodeHeaders(parsed.headers);
  if (parsed.partition !== undefined) {
    if (!Number.isSafeInteger(parsed.partition) || (parsed.partition as number) < 0) {
      throw new LineError(`"partition" must be a non-negative integer, got ${JSON.stringify(parsed.partition)}`);
    }
    record.partition = parsed.partition as number;
  }
  return record;
}

/** The deepest nesting of arrays and objects in JSON text (strings skipped). */
function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // a string: skip to its closing quote, past escapes
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) deepest = depth;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return deepest;
}

function isEnvelope(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const fields = Object.keys(value);
  return (Object.hasOwn(value, 'key') || Object.hasOwn(value, 'value')) && fields.every((field) => ENVELOPE_FIELDS.has(field));
}

function encodeKey(key: unknown): Uint8Array | null {
  if (key === undefined || key === null) return null;
  return utf8(typeof key === 'string' ? key : JSON.stringify(key));
}

function checkTimestamp(timestamp: unknown): number {
  if (!Number.isSafeInteger(timestamp) || (timestamp as number) < 0) {
    throw new LineError(`"timestamp" must be epoch milliseconds (a non-negative integer), got ${JSON.stringify(timestamp)}`);
  }
  return timestamp as number;
}

function encodeHeaders(headers: unknown): Headers {
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) {
    throw new LineError(`"headers" must be an object of strings, got ${JSON.stringify(headers)}`);
  }
  const encoded: Headers = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') throw new LineError(`header "${name}" must be a string, got ${JSON.stringify(value)}`);
    encoded[name] = utf8(value);
  }
  return encoded;
}

/**
 * How `sluice consume` prints keys, values and header values:
 * - json: UTF-8 text parsed back from JSON when it is JSON, else the string;
 * - raw: UTF-8 text as a string, never parsed;
 * - base64: every one as a base64 string.
 * In json and raw, bytes that are not valid UTF-8 are printed as `{"$base64": "..."}`, never
 * decoded lossily (with U+FFFD).
 */
export type OutputFormat = 'json' | 'raw' | 'base64';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function printable(bytes: Uint8Array | null, format: OutputFormat, parse: boolean): unknown {
  if (bytes === null) return null;
  const base64 = () => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  if (format === 'base64') return base64();
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return { $base64: base64() };
  }
  if (format === 'raw' || !parse) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The JSON line (without newline) `sluice consume` prints for a record. */
export function recordToJsonLine(topic: string, partition: number, record: BatchRecord, format: OutputFormat = 'json'): string {
  const headers: Record<string, unknown> = {};
  if (record.headers) for (const [name, value] of Object.entries(record.headers)) headers[name] = printable(value, format, false);
  return JSON.stringify({
    topic,
    partition,
    offset: record.offset,
    timestamp: record.timestamp,
    key: printable(record.key, format, true),
    value: printable(record.value, format, true),
    headers,
  });
}
