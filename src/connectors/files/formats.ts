/**
 * Output formats of the file sinks: JSON lines, CSV (RFC 4180, a header row) and Parquet
 * (hyparquet-writer). Rows are plain objects; a row's columns are its own keys for JSONL, and for
 * CSV and Parquet the columns of the sink's schema (given, or taken from the first records).
 */
import { ByteWriter, parquetWrite } from 'hyparquet-writer';
import { SluiceError, utf8 } from '../../core/index.ts';

export type FileFormat = 'jsonl' | 'csv' | 'parquet';

/** Parquet column types a schema can name. Numbers are DOUBLE unless a schema says INT64 or INT32. */
export type ParquetType = 'STRING' | 'INT64' | 'INT32' | 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMP' | 'JSON';
/** Column name -> type, in column order. */
export type ParquetSchema = Record<string, ParquetType>;

const PARQUET_TYPES: readonly ParquetType[] = ['STRING', 'INT64', 'INT32', 'DOUBLE', 'BOOLEAN', 'TIMESTAMP', 'JSON'];

export const EXTENSIONS: Record<FileFormat, string> = { jsonl: '.jsonl', csv: '.csv', parquet: '.parquet' };

/** The format a file name implies, if any. */
export function formatOfPath(path: string): FileFormat | undefined {
  if (/\.(jsonl|ndjson)$/i.test(path)) return 'jsonl';
  if (/\.csv$/i.test(path)) return 'csv';
  if (/\.parquet$/i.test(path)) return 'parquet';
  return undefined;
}

export function checkParquetSchema(schema: unknown, what: string): ParquetSchema {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema) || Object.keys(schema).length === 0) {
    throw new SluiceError('INVALID_ARGUMENT', `${what}: schema must map column names to types, such as { user_id: 'STRING', window_start: 'INT64', clicks: 'INT64' }`);
  }
  for (const [column, type] of Object.entries(schema)) {
    if (!PARQUET_TYPES.includes(type as ParquetType)) {
      throw new SluiceError('INVALID_ARGUMENT', `${what}: column '${column}' has type ${JSON.stringify(type)}; use one of ${PARQUET_TYPES.join(', ')}`);
    }
  }
  return schema as ParquetSchema;
}

/** The schema the first records imply: strings STRING, numbers DOUBLE, booleans BOOLEAN, Dates TIMESTAMP, bigints INT64, the rest JSON. */
export function inferParquetSchema(records: readonly unknown[]): ParquetSchema {
  const schema: ParquetSchema = {};
  for (const record of records) {
    for (const [column, value] of Object.entries(asRow(record, 'parquet'))) {
      if (schema[column] !== undefined || value === null || value === undefined) continue;
      schema[column] = typeof value === 'string' ? 'STRING' : typeof value === 'number' ? 'DOUBLE' : typeof value === 'boolean' ? 'BOOLEAN' : typeof value === 'bigint' ? 'INT64' : value instanceof Date ? 'TIMESTAMP' : 'JSON';
    }
  }
  // A column only ever null in the first records: JSON takes any later value.
  for (const record of records) for (const column of Object.keys(asRow(record, 'parquet'))) schema[column] ??= 'JSON';
  return schema;
}

/** Encodes rows as one Parquet file. */
export function encodeParquet(records: readonly unknown[], schema: ParquetSchema): Uint8Array {
  const rows = records.map((r) => asRow(r, 'parquet'));
  const columnData = Object.entries(schema).map(([name, type]) => ({ name, type, data: rows.map((row, i) => toParquet(row[name], type, name, i)) as never[] }));
  const writer = new ByteWriter();
  // With an in-memory writer the write is synchronous; a Promise would mean buffers still in flight.
  const pending = parquetWrite({ writer, columnData, createdBy: 'sluice' });
  if (pending !== undefined) throw new SluiceError('SINK_FAILED', 'the Parquet writer answered asynchronously where it writes to memory');
  return new Uint8Array(writer.getBuffer());
}

function toParquet(value: unknown, type: ParquetType, column: string, row: number): unknown {
  if (value === null || value === undefined) return null;
  const bad = (): never => {
    throw new SluiceError('SINK_FAILED', `parquet column '${column}' is ${type}, but row ${row} of the batch has ${JSON.stringify(value)}; map the value to that type, or give the sink a schema ({ schema: { ${column}: 'JSON' } })`);
  };
  switch (type) {
    case 'STRING':
      return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
    case 'DOUBLE':
      return typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : bad();
    case 'INT64':
      return typeof value === 'bigint' ? value : typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : bad();
    case 'INT32':
      return typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= 2 ** 31 ? value : bad();
    case 'BOOLEAN':
      return typeof value === 'boolean' ? value : bad();
    case 'TIMESTAMP':
      return value instanceof Date ? value : typeof value === 'number' && Number.isFinite(value) ? new Date(value) : bad();
    case 'JSON':
      return value;
  }
}

/** Encodes rows as JSON lines. */
export function encodeJsonl(records: readonly unknown[]): Uint8Array {
  let text = '';
  for (const record of records) text += `${JSON.stringify(record)}\n`;
  return utf8(text);
}

/** The columns of CSV rows: the keys of the first records, in order of appearance. */
export function csvColumns(records: readonly unknown[]): string[] {
  const columns = new Set<string>();
  for (const record of records) for (const key of Object.keys(asRow(record, 'csv'))) columns.add(key);
  return [...columns];
}

/** The CSV header line. */
export function csvHeader(columns: readonly string[]): Uint8Array {
  return utf8(`${columns.map(csvField).join(',')}\r\n`);
}

/** Encodes rows as CSV lines (no header), fields in `columns` order; missing fields are empty. */
export function encodeCsv(records: readonly unknown[], columns: readonly string[]): Uint8Array {
  let text = '';
  for (const record of records) {
    const row = asRow(record, 'csv');
    text += `${columns.map((c) => csvField(row[c])).join(',')}\r\n`;
  }
  return utf8(text);
}

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
}

function asRow(record: unknown, format: string): Record<string, unknown> {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new SluiceError('SINK_FAILED', `a ${format} sink writes objects (one column per field), got ${JSON.stringify(record)}; map each value to an object first, e.g. .map((r) => ({ key: r.key, count: r.value }))`);
  }
  return record as Record<string, unknown>;
}
