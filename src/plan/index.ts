/**
 * plan: the logical graph turned into a physical plan (stages of fused operators, one task
 * per input partition, exchanges at keyBy), and `explainPlan` to show it without running anything.
 */
export * from './explain.ts';
export * from './physical.ts';
