/**
 * runtime: tasks running fused operator chains per input partition, in-process exchanges at
 * keyBy, watermark propagation, error routing to the dead-letter topic; each commit hands
 * output, source offsets and the job snapshot to the checkpoint store (src/checkpoint).
 */
export * from './errors.ts';
export * from './exchange.ts';
export * from './job.ts';
export * from './metrics-events.ts';
export * from './operators.ts';
export * from './output-buffer.ts';
export * from './source.ts';
export * from './stores.ts';
export * from './task.ts';
