/**
 * api: the fluent DSL users write. Stream -> KeyedStream -> WindowedStream record a logical
 * graph of plain nodes; nothing here runs anything (the runtime never is imported from here).
 */
export * from './app.ts';
export * from './builder.ts';
export * from './connector.ts';
export * from './graph.ts';
export * from './join.ts';
export * from './options.ts';
export * from './output-mode.ts';
export * from './process.ts';
export * from './stream.ts';
export * from './table-nodes.ts';
export * from './two-input.ts';
export * from './window-argument.ts';
export * from './pattern.ts';
export { PATTERN_TIMED_OUT } from './pattern-spec.ts';
