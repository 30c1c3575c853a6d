/**
 * The stages of a pipeline, each its own type: `Stream<T>` -> `KeyedStream<K, T>` ->
 * `WindowedStream<K, T>`, and `Table<K, V>` (the latest row per key). A window needs a key and
 * an aggregate needs a window or a key, so wrong pipelines do not compile. Every method only
 * records a node in the graph. Each stage has a file of its own; this one is the import path
 * of them all.
 */
export type { AggregateOptions, EmitOption, MapAsyncOptions, StageOptions, WindowStageOptions } from './stage-options.ts';
export { Stream } from './stream-stage.ts';
export { type KeyedResult, KeyedStream } from './keyed-stream.ts';
export { type WindowResult, WindowedStream, WindowResultStream } from './windowed-stream.ts';
export { PatternStream } from './pattern-stream.ts';
export { Table } from './table.ts';
export type { TableChange } from './table-nodes.ts';
