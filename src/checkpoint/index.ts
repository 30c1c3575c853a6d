/**
 * checkpoint: how state, source offsets and output become durable together. A CheckpointStore
 * per state backend (the whole snapshot in a log topic for memory state; an LMDB transaction
 * bracketed by a prepared log transaction for lmdb state), the job snapshot format, and savepoints.
 */
export * from './commit.ts';
export * from './lmdb-checkpoints.ts';
export * from './snapshot.ts';
export * from './store.ts';
export * from './topic-checkpoints.ts';
export * from './savepoint-file.ts';
export * from './compatibility.ts';
