/**
 * testing: the public test kit (`sluice/testing`). TestKit runs pipelines on an in-memory log
 * with several partitions and a manual clock; OperatorHarness runs one operator with explicit
 * watermarks, processing time, snapshot and restore; `setDefaultBackend` points apps created
 * without a backend (pipeline modules run as written) at another log.
 */
export { MemoryBackend } from '../backend/memory.ts';
export { setDefaultBackend } from '../sluice.ts';
export * from './clock.ts';
export * from './harness.ts';
export * from './kit.ts';
