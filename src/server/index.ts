/**
 * server: HTTP on top of everything: Prometheus `/metrics`, JSON `/api/*`, server-sent
 * `/events` and the live dashboard, all fed by the runtime's diagnostics-channel events
 * (never by operator internals).
 */
export { createApp } from './app.ts';
export { Collector, type JobView } from './collector.ts';
export type { SeriesPoint } from './series.ts';
export { PrometheusMetrics } from './prometheus.ts';
export { formatPlan, type PlanOptions, type PlanReport, planCapacity, TARGET_UTILIZATION } from './planner.ts';
export { DEFAULT_PORT, type RunningServer, type ServerOptions, startServer, TOKEN_ENV } from './serve.ts';
