/**
 * time: window specifications and their assigners, the builders users write (`Windows`,
 * `Triggers`, `Watermarks`, and the Flink-style `TumblingWindow.of(5, MINUTES)` spellings),
 * and all watermark logic (per-partition generators; the frontier, the minimum over inputs with idleness).
 * Imports only core.
 */
export * from './assigners.ts';
export * from './builders.ts';
export * from './frontier.ts';
export * from './watermarks.ts';
export type * from './window-spec.ts';
