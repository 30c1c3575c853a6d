/**
 * runtime: tasks running fused operator chains per input partition, in-process exchanges at
 * keyBy, watermark propagation, error routing to the dead-letter topic, and the commit step
 * that writes output and source offsets together.
 */
export * from './commit.ts';
export * from './errors.ts';
export * from './exchange.ts';
export * from './job.ts';
export * from './metrics-events.ts';
export * from './operators.ts';
export * from './output-buffer.ts';
export * from './source.ts';
export * from './stores.ts';
export * from './task.ts';
