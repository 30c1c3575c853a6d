/**
 * operators: one operator family per file. Stateless (filter, map, flatMap), keyed process
 * functions with state and timers, running aggregates, sinks, the window operators, tables and
 * their joins (table*.ts, join-table*.ts).
 * Each implements `process` over a batch and only the hooks it needs.
 */
export * from './aggregate.ts';
export * from './aggregate-function.ts';
export * from './operator.ts';
export * from './process.ts';
export * from './record-error.ts';
export * from './sink.ts';
export * from './async-map.ts';
export * from './sink-modes.ts';
export * from './stateless.ts';
export * from './keyed-timers.ts';
export * from './timer-index.ts';
export * from './timer-queue.ts';
export * from './table.ts';
export * from './table-sink.ts';
export * from './join-table.ts';
export * from './join-tables.ts';
export * from './join-foreign-key.ts';
