/**
 * connectors: sources and sinks beyond the log. Files (JSON lines, CSV, Parquet), Postgres (a sink,
 * and change data capture), HTTP and MQTT push sources; each a small adapter behind the `Source` or
 * `Sink` interface of src/api/connector.ts (users write their own the same way), joining the
 * checkpoint protocol so its output is exactly-once where the other side allows it.
 */
export type { CsvType } from './files/csv.ts';
export type { FileSourceOptions } from './files/file-source.ts';
export type { FileFormat, ParquetSchema, ParquetType } from './files/formats.ts';
export type { HttpSourceOptions, HttpSourceStats } from './http/http-source.ts';
export type { MqttSourceOptions } from './mqtt/mqtt-source.ts';
export type { PostgresCdcOptions } from './postgres/cdc-source.ts';
export type { PushSourceStats } from './push-report.ts';
export type { PostgresSinkOptions } from './postgres/sink.ts';
export { type FileSinkOptions, type ParquetSinkOptions, sinks } from './sinks.ts';
export { sources } from './sources.ts';
