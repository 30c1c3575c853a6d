/**
 * runtime: a job is a topology (stages, each a StageRuntime owning its tasks, source partitions,
 * upstream frontiers and leaving watermarks; exchanges at keyBy), rounds over it (fetch, fused
 * operator chains, watermark propagation) and a checkpointer (when and what to checkpoint;
 * savepoints) that hands each checkpoint to the coordinator in src/checkpoint. Also error
 * routing to the dead-letter topic, metrics events, and stepping for tests.
 */
export * from './errors.ts';
export * from './exchange.ts';
export * from './job.ts';
export * from './metrics-events.ts';
export * from './operators.ts';
export * from './profile.ts';
export * from './thread-metrics.ts';
export * from './output-buffer.ts';
export * from './source.ts';
export * from './stage.ts';
export * from './stepping.ts';
export * from './stores.ts';
export * from './task.ts';
