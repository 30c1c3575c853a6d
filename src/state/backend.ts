/** What the engine asks of a state backend, and the heap backend. */
import { Packr } from 'msgpackr';
import { type KeyedTable, MemoryTable } from './table.ts';

/**
 * The measured size of one table (`operator/kind/task`), for metrics and the planner. lmdb:
 * exact, the pages its B-tree holds on disk as of the last checkpoint. memory: the entries
 * counted exactly, the bytes estimated as entries times the mean msgpack size of a sample
 * (what the table would take serialized; the heap holds the same data in a few times that).
 */
export interface TableSize {
  scope: string;
  entries: number;
  bytes: number;
}

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
  /** Each table's size now; it reads a little of every table, so call it now and then, never per record. */
  sizes(): TableSize[];
  close(): Promise<void>;
}

/** A state store that makes its own checkpoints durable (checkpoint/store-checkpoints.ts drives it). */
export interface DurableStore {
  /** Where the store lives, for messages (a directory). */
  readonly location: string;
  /** Writes every table's changes and `record` (the job's checkpoint) in one durable transaction, synchronously. */
  checkpoint(record: Uint8Array): void;
  /** A checkpoint's barrier: the changes so far are the ones `writeCheckpoint` writes; later ones wait for the next (one checkpoint in flight at a time). */
  seal(): void;
  /** Writes the sealed changes (sealing now if not sealed) and `record` in one durable transaction, off the processing thread; resolves once on disk. */
  writeCheckpoint(record: Uint8Array): Promise<void>;
  /** Milliseconds `writeCheckpoint` has spent on the caller's thread so far (the rest runs on the store's own). */
  readonly loopMs: number;
  /** The last checkpoint record, or undefined when none was taken (or the store was deleted). */
  lastCheckpoint(): Uint8Array | undefined;
  /** Drops every table (but those `keep` names) and the checkpoint record. */
  clear(keep?: (scope: string) => boolean): void;
  /** Every table opened in this run, with its entries (a savepoint copies them). */
  tables(): [scope: string, entries: Iterable<[unknown, unknown]>][];
}

/** Entries of a heap table whose serialized size stands for the rest. */
const SIZE_SAMPLE = 64;
const SAMPLER = new Packr({ structuredClone: true });

/** The heap backend: tables are Maps, saved whole inside each operator's snapshot. */
export class MemoryStateBackend implements StateBackend {
  readonly kind = 'memory';
  readonly pending = 0;
  /** The tables handed out, by scope, for `sizes()` (the last one of a scope asked for twice). */
  readonly #tables = new Map<string, MemoryTable<unknown>>();

  table<V>(scope?: string): KeyedTable<V> {
    const table = new MemoryTable<V>();
    if (scope !== undefined) this.#tables.set(scope, table as MemoryTable<unknown>);
    return table;
  }

  sizes(): TableSize[] {
    return [...this.#tables].map(([scope, table]) => {
      const held = table.held?.();
      return held === undefined ? { scope, entries: table.size, bytes: estimateBytes(table.size, table.entries()) } : { scope, entries: held.entries, bytes: estimateBytes(held.entries, held.sample) };
    });
  }

  async close(): Promise<void> {}
}

/** Entries times the mean msgpack size of the first `SIZE_SAMPLE` entries (key and value). */
function estimateBytes(size: number, entries: Iterable<[unknown, unknown]>): number {
  if (size === 0) return 0;
  let sampled = 0;
  let bytes = 0;
  for (const [id, value] of entries) {
    bytes += SAMPLER.pack([id, value]).length;
    if (++sampled === SIZE_SAMPLE) break;
  }
  return Math.round((bytes / sampled) * size);
}
