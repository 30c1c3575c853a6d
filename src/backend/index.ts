/**
 * backend: the LogBackend interface the engine talks to, and its implementations
 * (embedded on src/log, in memory for tests, Kafka in kafka/).
 */
export * from './types.ts';
