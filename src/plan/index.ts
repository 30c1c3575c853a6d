/**
 * plan: the logical graph turned into a physical plan (stages of fused operators, one task
 * per input partition, exchanges at keyBy), the aggregate functions the operators run, and
 * `explainPlan` to show it all without running anything.
 */
export * from './aggregates.ts';
export * from './explain.ts';
export * from './physical.ts';
