/**
 * SQL types and values. Inside a query, TIMESTAMP values are epoch milliseconds and INTERVAL
 * values milliseconds (numbers, as the DSL's times are); rows leave SQL (topics, print, the
 * streams `app.sql` returns) with timestamps as ISO-8601 strings in UTC.
 */
import { SluiceError } from '../core/index.ts';

export type SqlType = 'bigint' | 'double' | 'text' | 'boolean' | 'timestamp' | 'interval' | 'json' | 'null';

export interface Column {
  name: string;
  type: SqlType;
}

/** An expression compiled into a function of the row, with its SQL type. */
export interface Compiled {
  fn: (row: any) => unknown;
  type: SqlType;
  /** A literal (or an expression of literals): its value is known when compiled. */
  constant?: boolean;
}

export function constant(value: unknown, type: SqlType): Compiled {
  return { fn: () => value, type, constant: true };
}

/** A row inside a query: column name to value (null for SQL NULL). */
export type Row = Record<string, unknown>;

const TYPE_NAMES: Record<string, SqlType> = {
  bigint: 'bigint',
  int: 'bigint',
  int2: 'bigint',
  int4: 'bigint',
  int8: 'bigint',
  integer: 'bigint',
  smallint: 'bigint',
  double: 'double',
  'double precision': 'double',
  float: 'double',
  float4: 'double',
  float8: 'double',
  real: 'double',
  numeric: 'double',
  decimal: 'double',
  text: 'text',
  varchar: 'text',
  'character varying': 'text',
  char: 'text',
  character: 'text',
  bpchar: 'text',
  string: 'text',
  boolean: 'boolean',
  bool: 'boolean',
  timestamp: 'timestamp',
  timestamptz: 'timestamp',
  'timestamp with time zone': 'timestamp',
  'timestamp without time zone': 'timestamp',
  timestamp_ltz: 'timestamp',
  interval: 'interval',
  json: 'json',
  jsonb: 'json',
};

/** The SQL type a type name stands for, or undefined (the caller refuses it by name). */
export function typeNamed(name: string): SqlType | undefined {
  return TYPE_NAMES[name.toLowerCase()];
}

export const SUPPORTED_TYPES = 'BIGINT, INT, DOUBLE, NUMERIC, TEXT, VARCHAR, BOOLEAN, TIMESTAMP, TIMESTAMPTZ, INTERVAL, JSONB';

/** The Postgres name of a type, as DESCRIBE and the wire protocol show it. */
export function typeLabel(type: SqlType): string {
  switch (type) {
    case 'bigint':
      return 'bigint';
    case 'double':
      return 'double precision';
    case 'text':
      return 'text';
    case 'boolean':
      return 'boolean';
    case 'timestamp':
      return 'timestamp with time zone';
    case 'interval':
      return 'interval';
    case 'json':
      return 'jsonb';
    case 'null':
      return 'unknown';
  }
}

/** A timestamp's epoch ms from an ISO string (without a zone: UTC), epoch ms, or a numeric string; NaN when neither. */
export function parseTimestamp(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return Number.NaN;
  const text = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  const m = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(text);
  if (m === null) return Number.NaN;
  const zone = m[3] === undefined ? 'Z' : /^[+-]\d{2}$/.test(m[3]) ? `${m[3]}:00` : m[3].length === 5 ? `${m[3].slice(0, 3)}:${m[3].slice(3)}` : m[3];
  return Date.parse(`${m[1]}T${m[2] ?? '00:00:00'}${zone}`);
}

/**
 * Converts `value` to `type`, or throws an error that names `what` (a column, a CAST): a source
 * record that does not fit its declared columns goes to the dead-letter topic with it.
 */
export function convert(value: unknown, type: SqlType, what: string): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'bigint':
    case 'double': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : typeof value === 'boolean' ? Number(value) : Number.NaN;
      if (!Number.isFinite(n)) throw new SluiceError('INVALID_RECORD', `${what}: ${JSON.stringify(value)} is not a number`);
      return type === 'bigint' ? Math.trunc(n) : n;
    }
    case 'text':
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 't' || value === 1) return true;
      if (value === 'false' || value === 'f' || value === 0) return false;
      throw new SluiceError('INVALID_RECORD', `${what}: ${JSON.stringify(value)} is not a boolean`);
    case 'timestamp': {
      const ms = parseTimestamp(value);
      if (!Number.isFinite(ms)) throw new SluiceError('INVALID_RECORD', `${what}: ${JSON.stringify(value)} is not a timestamp; give an ISO-8601 string such as "2024-01-01T10:00:00Z" or epoch milliseconds`);
      return ms;
    }
    case 'interval':
      if (typeof value === 'number') return value;
      throw new SluiceError('INVALID_RECORD', `${what}: ${JSON.stringify(value)} is not an interval in milliseconds`);
    case 'json':
      return value;
    case 'null':
      return null;
  }
}

/**
 * `convert` for one column, chosen once: the per-record path of a source does no type dispatch
 * for the common case (a value already of the column's type).
 */
export function converter(type: SqlType, what: string): (value: unknown) => unknown {
  switch (type) {
    case 'text':
      return (v) => (typeof v === 'string' || v === null || v === undefined ? (v ?? null) : convert(v, type, what));
    case 'bigint':
      return (v) => (typeof v === 'number' && Number.isInteger(v) ? v : convert(v, type, what));
    case 'double':
    case 'timestamp':
    case 'interval':
      return (v) => (typeof v === 'number' && Number.isFinite(v) ? v : convert(v, type, what));
    case 'boolean':
      return (v) => (typeof v === 'boolean' ? v : convert(v, type, what));
    default:
      return (v) => convert(v, type, what);
  }
}

/** A value as it leaves SQL: timestamps as ISO strings, the rest as it is. */
export function exportValue(value: unknown, type: SqlType): unknown {
  if (value === null || value === undefined) return null;
  if (type === 'timestamp' && typeof value === 'number') return Number.isFinite(value) ? new Date(value).toISOString() : null;
  return value;
}

/** A row as it leaves SQL, its columns in order. */
export function exportRow(row: Row, columns: readonly Column[]): Row {
  const out: Row = {};
  for (const c of columns) out[c.name] = exportValue(row[c.name], c.type);
  return out;
}

/**
 * `exportRow` for one relation's columns, chosen once: rows without timestamp columns leave
 * as they are (rows are never changed once emitted, so sharing them is safe).
 */
export function rowExporter(columns: readonly Column[]): (row: Row) => Row {
  if (!columns.some((c) => c.type === 'timestamp')) return (row) => row;
  return (row) => exportRow(row, columns);
}

/** The row's type after an arithmetic or comparison on numbers: DOUBLE if either is. */
export function numericType(a: SqlType, b: SqlType): SqlType {
  return a === 'double' || b === 'double' ? 'double' : 'bigint';
}

export function isNumeric(type: SqlType): boolean {
  return type === 'bigint' || type === 'double' || type === 'null';
}
