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
  /**
   * Present when the state lives in a durable store of its own (lmdb), which then keeps the
   * checkpoint record beside the tables. Absent: tables are heap Maps saved whole inside the
   * operator snapshots, and the checkpoint goes to the log (checkpoint/topic-checkpoints.ts).
   */
  readonly store?: DurableStore;
  close(): Promise<void>;
}

/** A state store that makes its own checkpoints durable (checkpoint/store-checkpoints.ts drives it). */
export interface DurableStore {
  /** Where the store lives, for messages (a directory). */
  readonly location: string;
  /** Writes every table's changes and `record` (the job's checkpoint) in one durable transaction. */
  checkpoint(record: Uint8Array): void;
  /** The last checkpoint record, or undefined when none was taken (or the store was deleted). */
  lastCheckpoint(): Uint8Array | undefined;
  /** Drops every table (but those `keep` names) and the checkpoint record. */
  clear(keep?: (scope: string) => boolean): void;
  /** Every table opened in this run, with its entries (a savepoint copies them). */
  tables(): [scope: string, entries: Iterable<[unknown, unknown]>][];
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
