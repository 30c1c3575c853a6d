/**
 * `sinks`: the sinks outside the log that ship with Sluice, each exactly-once with the embedded
 * log (see docs/semantics.md for each one's protocol). Options are checked here, where the
 * pipeline is written.
 */
import type { Sink } from '../api/index.ts';
import { type Duration, SluiceError, toMillis } from '../core/index.ts';
import { AppendFileSink } from './files/append-sink.ts';
import { checkParquetSchema, type FileFormat, formatOfPath, type ParquetSchema } from './files/formats.ts';
import { RollingFileSink } from './files/rolling-sink.ts';
import { PostgresSink, type PostgresSinkOptions } from './postgres/sink.ts';

export interface FileSinkOptions {
  /** A file (`out/alerts.jsonl`, `.csv`): it grows by whole checkpoints. Or a directory of rolling parts (give `format`). */
  path: string;
  /** Default from the file's suffix. */
  format?: 'jsonl' | 'csv';
  /** A directory only: how long a part stays open before it rolls (default '1m'). */
  rollEvery?: Duration;
  /** CSV columns, in order; default the first records' fields. */
  columns?: string[];
}

export interface ParquetSinkOptions {
  /** The directory of the part files (`part-000001.parquet`, ...). */
  path: string;
  /** How long a part stays open before it rolls at a checkpoint (default '1m'); a run's end rolls it too. */
  rollEvery?: Duration;
  /** Column types; default from the first records (numbers DOUBLE; say INT64 for integers). */
  schema?: ParquetSchema;
}

/**
 * JSON lines or CSV: one file that grows by committed checkpoints, or a directory of rolling parts.
 * @example
 * alerts.to(sinks.file({ path: 'out/alerts.jsonl' }));
 */
function file<T>(options: FileSinkOptions): Sink<T> {
  checkOptions(options, 'sinks.file()', "sinks.file({ path: 'out/alerts.jsonl' })");
  const path = checkPath(options.path, 'sinks.file()');
  const implied = formatOfPath(path);
  const format = options.format ?? implied;
  if (format !== 'jsonl' && format !== 'csv') {
    throw new SluiceError('INVALID_ARGUMENT', `sinks.file(): format ${JSON.stringify(format ?? options.format)} is not one of 'jsonl', 'csv'; name the file out/alerts.jsonl or out/alerts.csv, or pass { format: 'jsonl' } for a directory of parts (Parquet: sinks.parquet())`);
  }
  const columns = checkColumns(options.columns);
  if (implied !== undefined && options.rollEvery === undefined) return new AppendFileSink({ path, format, ...(columns ? { columns } : {}) }) as Sink<T>;
  return rolling(path, format, options.rollEvery, 'sinks.file()', columns ? { columns } : {});
}

/**
 * Rolling Parquet files under a directory, each visible only once its checkpoint committed.
 * @example
 * rows.to(sinks.parquet({ path: 'out/clicks', rollEvery: '1m' }));
 */
function parquet<T>(options: ParquetSinkOptions): Sink<T> {
  checkOptions(options, 'sinks.parquet()', "sinks.parquet({ path: 'out/clicks', rollEvery: '1m' })");
  const path = checkPath(options.path, 'sinks.parquet()');
  const schema = options.schema === undefined ? undefined : checkParquetSchema(options.schema, 'sinks.parquet()');
  return rolling(path, 'parquet', options.rollEvery, 'sinks.parquet()', schema ? { schema } : {});
}

/**
 * Rows into a Postgres table: upserts by `key` (or appends), one transaction per checkpoint.
 * @example
 * rows.to(sinks.postgres({ url, table: 'user_clicks', key: ['user_id', 'window_start'] }));
 */
function postgres<T>(options: PostgresSinkOptions): Sink<T> {
  return new PostgresSink(options) as Sink<T>;
}

export const sinks = { file, parquet, postgres };

function rolling<T>(path: string, format: FileFormat, rollEvery: Duration | undefined, what: string, layout: { schema?: ParquetSchema; columns?: string[] }): Sink<T> {
  const rollEveryMs = rollEvery === undefined ? 60_000 : toMillis(rollEvery, `${what} rollEvery`);
  if (rollEveryMs < 0) throw new SluiceError('INVALID_ARGUMENT', `${what}: rollEvery must not be negative; write rollEvery: '1m'`);
  return new RollingFileSink({ path, format, rollEveryMs, ...layout }) as Sink<T>;
}

export function checkOptions(options: unknown, what: string, example: string): void {
  if (options === null || typeof options !== 'object') throw new SluiceError('INVALID_ARGUMENT', `${what} takes options; write ${example}`);
}

function checkPath(path: unknown, what: string): string {
  if (typeof path !== 'string' || path.length === 0) throw new SluiceError('INVALID_ARGUMENT', `${what}: path must be a non-empty string, got ${JSON.stringify(path)}`);
  return path;
}

function checkColumns(columns: unknown): string[] | undefined {
  if (columns === undefined) return undefined;
  if (!Array.isArray(columns) || columns.length === 0 || columns.some((c) => typeof c !== 'string')) {
    throw new SluiceError('INVALID_ARGUMENT', `columns must be a list of field names, such as ['user_id', 'count'], got ${JSON.stringify(columns)}`);
  }
  return columns;
}
