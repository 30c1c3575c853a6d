/**
 * state: where operators keep per-key state. A backend hands out keyed tables (memory: Maps
 * saved inside each snapshot; lmdb: on disk, written incrementally at each checkpoint), and
 * KeyedStateStore gives process functions named value, list and map states with TTL on them.
 * The lmdb backend is imported from './lmdb-backend.ts' directly, so memory-state apps never load lmdb.
 */
export * from './backend.ts';
export * from './keyed-state.ts';
export * from './table.ts';
