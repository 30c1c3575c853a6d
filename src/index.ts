/**
 * The package entry: the app, the window, trigger and watermark builders, durations, and the
 * error type. Test helpers (the test kit, `setDefaultBackend`) live in `sluice/testing`.
 * @example
 * import { Sluice, Windows, Watermarks, TumblingWindow, MINUTES } from 'sluice';
 */
export type {
  AggregateOptions,
  AppOptions,
  ChangelogRecord,
  ChangelogSource,
  ConnectorSourceOptions,
  EmitOption,
  Guarantee,
  KeyedResult,
  MapAsyncOptions,
  ListState,
  MapState,
  OnError,
  PatternCondition,
  PatternContext,
  PatternMatch,
  PatternOptions,
  SkipStrategy,
  OutputMode,
  ProcessContext,
  ProcessFunction,
  PushSourceEvent,
  Sink,
  SinkBatch,
  SinkContext,
  Source,
  SourceContext,
  SourceReader,
  SourceRecord,
  SourceOptions,
  StageOptions,
  TableChange,
  TableSourceOptions,
  Timers,
  ValueState,
  WindowResult,
  WindowStageOptions,
} from './api/index.ts';
export { KeyedStream, Pattern, PatternStream, pushSourceChannel, SourceTables, Stream, Table, WindowedStream, WindowResultStream } from './api/index.ts';
export { type FileSinkOptions, type FileSourceOptions, type MqttSourceOptions, type ParquetSchema, type ParquetSinkOptions, type PostgresCdcOptions, type PostgresSinkOptions, sinks, sources } from './connectors/index.ts';
export type { Codec, Duration, ErrorCode } from './core/index.ts';
export { DAYS, HOURS, isSluiceError, jsonCodec, MILLISECONDS, MINUTES, SECONDS, SluiceError, stringCodec, toMillis } from './core/index.ts';
export type { RunSummary, StoredWindow, WindowStoreView } from './runtime/index.ts';
export { type RunOptions, Sluice, type SluiceOptions, type SqlOptions } from './sluice.ts';
export type { Column as SqlColumn, SqlResult, SqlType } from './sql/index.ts';
export { HoppingWindow, SessionWindow, SlidingWindow, Triggers, TumblingWindow, Watermarks, Windows } from './time/index.ts';
export type {
  CountSlidingWindowSpec,
  CountTumblingWindowSpec,
  GlobalWindowSpec,
  HoppingWindowSpec,
  LookbackWindowSpec,
  SessionWindowSpec,
  TumblingWindowSpec,
  WatermarkSpec,
  WindowSpec,
} from './time/index.ts';
