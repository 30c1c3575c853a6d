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
 * as UTF-8 and parsed back from JSON when they are JSON, else the string; null stays null.
 */
import { fromUtf8, type Headers, jsonOrText, utf8 } from '../core/index.ts';
import type { BatchRecord, ProduceRecord } from '../log/index.ts';

const ENVELOPE_FIELDS = new Set(['key', 'value', 'timestamp', 'headers', 'partition']);

/** Why a line cannot be a record; the caller adds the line number. */
export class LineError extends Error {
  override name = 'LineError';
}

/** Parses one input line (already known not to be blank) into a record, or throws a LineError. */
export function parseRecordLine(line: string, now: number): ProduceRecord {
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

/** The JSON line (without newline) `sluice consume` prints for a record. */
export function recordToJsonLine(topic: string, partition: number, record: BatchRecord): string {
  const headers: Record<string, string> = {};
  if (record.headers) for (const [name, value] of Object.entries(record.headers)) headers[name] = fromUtf8(value);
  return JSON.stringify({
    topic,
    partition,
    offset: record.offset,
    timestamp: record.timestamp,
    key: jsonOrText(record.key),
    value: jsonOrText(record.value),
    headers,
  });
}
