/**
 * connectors: sources and sinks beyond the log. Files (JSON lines, CSV, Parquet) and Postgres,
 * each a small adapter behind the `Sink` interface of src/api/connector.ts (users write their
 * own the same way); each joins the checkpoint protocol so its output is exactly-once.
 */
export type { CsvType } from './files/csv.ts';
export type { FileSourceOptions } from './files/file-source.ts';
export type { FileFormat, ParquetSchema, ParquetType } from './files/formats.ts';
export type { HttpSourceOptions, HttpSourceStats } from './http/http-source.ts';
export type { PostgresSinkOptions } from './postgres/sink.ts';
export { type FileSinkOptions, type ParquetSinkOptions, sinks } from './sinks.ts';
export { sources } from './sources.ts';
