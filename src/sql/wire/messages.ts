/**
 * Postgres wire protocol v3 messages the server writes, and a reader for the messages it
 * reads. After the startup message, every message is a
 * type byte, an int32 length (itself included) and its body; text format only.
 * See https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
import type { SqlType } from '../types.ts';

/** A column of a result: its name and the Postgres type it is sent as. */
export interface WireColumn {
  name: string;
  type: SqlType;
}

const OIDS: Record<SqlType, number> = { bigint: 20, double: 701, text: 25, boolean: 16, timestamp: 1184, interval: 1186, json: 3802, null: 25 };
const SIZES: Record<SqlType, number> = { bigint: 8, double: 8, text: -1, boolean: 1, timestamp: 8, interval: 16, json: -1, null: -1 };

function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

function cstring(s: string): Buffer {
  return Buffer.concat([Buffer.from(s, 'utf8'), Buffer.alloc(1)]);
}

function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

/** RowDescription ('T'): per column its name, table 0, type oid and size, text format. */
export function rowDescription(columns: readonly WireColumn[]): Buffer {
  const parts = [int16(columns.length)];
  for (const c of columns) parts.push(cstring(c.name), int32(0), int16(0), int32(OIDS[c.type]), int16(SIZES[c.type]), int32(-1), int16(0));
  return message('T', Buffer.concat(parts));
}

/** DataRow ('D'): each value as text, NULL as length -1. */
export function dataRow(values: readonly (string | null)[]): Buffer {
  const parts = [int16(values.length)];
  for (const v of values) {
    if (v === null) parts.push(int32(-1));
    else {
      const bytes = Buffer.from(v, 'utf8');
      parts.push(int32(bytes.length), bytes);
    }
  }
  return message('D', Buffer.concat(parts));
}

export const commandComplete = (tag: string): Buffer => message('C', cstring(tag));
export const parseComplete = (): Buffer => message('1', Buffer.alloc(0));
export const bindComplete = (): Buffer => message('2', Buffer.alloc(0));
export const closeComplete = (): Buffer => message('3', Buffer.alloc(0));
export const noData = (): Buffer => message('n', Buffer.alloc(0));
export const emptyQuery = (): Buffer => message('I', Buffer.alloc(0));
export const readyForQuery = (status: 'I' | 'E' = 'I'): Buffer => message('Z', Buffer.from(status, 'latin1'));
export const parameterDescription = (count: number): Buffer => message('t', Buffer.concat([int16(count), ...Array.from({ length: count }, () => int32(0))]));

/** Authentication ('R'): 0 ok, 3 cleartext password requested. */
export const authentication = (code: number): Buffer => message('R', int32(code));
export const parameterStatus = (name: string, value: string): Buffer => message('S', Buffer.concat([cstring(name), cstring(value)]));

/** A FATAL ErrorResponse, before the connection closes. */
export function fatal(code: string, text: string): Buffer {
  return message('E', Buffer.concat([Buffer.from('S'), cstring('FATAL'), Buffer.from('V'), cstring('FATAL'), Buffer.from('C'), cstring(code), Buffer.from('M'), cstring(text), Buffer.alloc(1)]));
}

/** ErrorResponse ('E') with severity, SQLSTATE code, message and, when known, the 1-based character position. */
export function errorResponse(code: string, text: string, position?: number): Buffer {
  const fields = [Buffer.from('S'), cstring('ERROR'), Buffer.from('V'), cstring('ERROR'), Buffer.from('C'), cstring(code), Buffer.from('M'), cstring(text)];
  if (position !== undefined) fields.push(Buffer.from('P'), cstring(String(position)));
  fields.push(Buffer.alloc(1));
  return message('E', Buffer.concat(fields));
}

/** A value in Postgres' text format for its type (timestamps as `2024-01-01 10:00:00+00`). */
export function textValue(value: unknown, type: SqlType): string | null {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'boolean':
      return value ? 't' : 'f';
    case 'timestamp': {
      if (typeof value !== 'number') return String(value);
      const iso = new Date(value).toISOString();
      return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${iso.endsWith('.000Z') ? '' : iso.slice(19, 23)}+00`;
    }
    case 'interval': {
      const ms = Number(value);
      const sign = ms < 0 ? '-' : '';
      const abs = Math.abs(ms);
      const days = Math.floor(abs / 86_400_000);
      const rest = abs % 86_400_000;
      const clock = [Math.floor(rest / 3_600_000), Math.floor((rest % 3_600_000) / 60_000), Math.floor((rest % 60_000) / 1000)].map((n) => String(n).padStart(2, '0')).join(':');
      const fraction = rest % 1000 === 0 ? '' : `.${String(rest % 1000).padStart(3, '0')}`;
      return `${sign}${days > 0 ? `${days} day${days === 1 ? '' : 's'} ` : ''}${clock}${fraction}`;
    }
    case 'json':
      return JSON.stringify(value);
    default:
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
}

/** Reads the body of a frontend message. */
export class MessageReader {
  readonly #buffer: Buffer;
  #at: number;

  constructor(buffer: Buffer, at = 5) {
    this.#buffer = buffer;
    this.#at = at;
  }

  cstring(): string {
    const end = this.#buffer.indexOf(0, this.#at);
    const s = this.#buffer.toString('utf8', this.#at, end);
    this.#at = end + 1;
    return s;
  }

  int16(): number {
    const n = this.#buffer.readInt16BE(this.#at);
    this.#at += 2;
    return n;
  }

  int32(): number {
    const n = this.#buffer.readInt32BE(this.#at);
    this.#at += 4;
    return n;
  }

  byte(): string {
    return String.fromCharCode(this.#buffer[this.#at++]!);
  }

  bytes(n: number): Buffer {
    const b = this.#buffer.subarray(this.#at, this.#at + n);
    this.#at += n;
    return b;
  }
}
