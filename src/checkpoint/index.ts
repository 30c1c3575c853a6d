/**
 * checkpoint: how state, source offsets and output become durable together. The coordinator
 * (the steps per guarantee, in one table), each state backend's persistence (the whole snapshot
 * in a log topic for memory state; a store transaction bracketed by a prepared log transaction
 * for lmdb state), the job snapshot format, and savepoints.
 */
export * from './coordinator.ts';
export * from './persistence.ts';
export * from './snapshot.ts';
export * from './store-checkpoints.ts';
export * from './topic-checkpoints.ts';
export * from './savepoint-file.ts';
export * from './compatibility.ts';
export * from './task-checkpoints.ts';
