/** What the engine asks of a state backend, and the heap backend. */
import { type KeyedTable, MemoryTable } from './table.ts';

export interface StateBackend {
  readonly kind: 'memory' | 'lmdb';
  /** The table of one operator in one task, by a scope that stays the same across runs (`stage/task/operator`). */
  table<V>(scope: string): KeyedTable<V>;
  /** Entries changed since the last checkpoint; the job checkpoints early when it grows large. */
  readonly pending: number;
  /** Writes changed entries without a checkpoint record (bulk restores; lmdb only). */
  flushTables?(): void;
  close(): Promise<void>;
}

/** The heap backend: tables are Maps, saved whole inside each operator's snapshot. */
export class MemoryStateBackend implements StateBackend {
  readonly kind = 'memory';
  readonly pending = 0;

  table<V>(): KeyedTable<V> {
    return new MemoryTable<V>();
  }

  async close(): Promise<void> {}
}
