/**
 * operators: one operator family per file. Stateless (filter, map, flatMap), keyed process
 * functions with state and timers, running aggregates, sinks, and the window operators.
 * Each implements `process` over a batch and only the hooks it needs.
 */
export * from './aggregate.ts';
export * from './operator.ts';
export * from './process.ts';
export * from './record-error.ts';
export * from './sink.ts';
export * from './stateless.ts';
export * from './timers.ts';
export * from './durable-timers.ts';
