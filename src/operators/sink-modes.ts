/**
 * Output modes of table and window results (Spark's): `append` writes final results only
 * (windows as they fire: the plain sinks of sink.ts), `update` one upsert per change, the final
 * value last, never the same value twice in a row, `complete` the whole result table at each
 * checkpoint (for small result tables). A table's changelog sink (table-sink.ts) is its update
 * mode; the two sinks here are window results in update mode and any result in complete mode.
 */
import { type Codec, jsonCodec } from '../core/index.ts';
import type { Element, Operator, Output } from './operator.ts';
import { type RecordErrorHandler, rethrow } from './record-error.ts';
import { KeyedTimers } from './keyed-timers.ts';
import { encodeKey, type RecordSink } from './sink.ts';
import type { Change } from './table.ts';
import { type KeyedTable, keyId, MemoryTable } from '../state/index.ts';

/** A window result as the window operators emit it. */
interface WindowRow {
  key: unknown;
  start: number;
  end: number;
  value: unknown;
}

/** A window's id among its key's windows: results of one window upsert each other. */
function windowId(r: WindowRow): ReturnType<typeof keyId> {
  return keyId([r.key, r.start, r.end]);
}

/** The last result written for a window (as JSON), and the window, to forget it once it is done. */
interface LastWritten {
  window: [key: unknown, start: number, end: number];
  value: string;
}

/**
 * Window results in update mode: the window emits at every change (early firing per record,
 * then its final value, then each late re-firing), and this sink writes a result only when it
 * differs from the window's last one. A window is forgotten once the watermark passes its end
 * plus the allowed lateness: it cannot change any more.
 * @example new WindowUpdateSinkOperator('to-counts', 'counts', buffer, { retainMs: 0 })
 */
export class WindowUpdateSinkOperator implements Operator<WindowRow, never> {
  readonly name: string;
  readonly #topic: string;
  readonly #sink: RecordSink;
  readonly #onError: RecordErrorHandler;
  readonly #codec: Codec;
  readonly #retainMs: number;
  readonly #last: KeyedTable<LastWritten>;
  /** When each window is done (its end plus the allowed lateness), keyed by the window. */
  readonly #done = new KeyedTimers();

  constructor(name: string, topic: string, sink: RecordSink, options: { retainMs: number; onError?: RecordErrorHandler; codec?: Codec; table?: KeyedTable<LastWritten> }) {
    this.name = name;
    this.#topic = topic;
    this.#sink = sink;
    this.#retainMs = options.retainMs;
    this.#onError = options.onError ?? rethrow;
    this.#codec = options.codec ?? jsonCodec;
    this.#last = options.table ?? new MemoryTable();
  }

  process(batch: Element<WindowRow>[], _out: Output<never>): void {
    for (let i = 0; i < batch.length; i++) {
      const element = batch[i];
      const row = element.value;
      const id = windowId(row);
      const value = JSON.stringify(row.value);
      const last = this.#last.get(id);
      if (last?.value === value) continue;
      let bytes: Uint8Array;
      try {
        bytes = this.#codec.encode(row);
      } catch (error) {
        this.#onError(element, error, this.name);
        continue;
      }
      const window: LastWritten['window'] = [row.key, row.start, row.end];
      this.#last.set(id, { window, value });
      if (last === undefined) this.#done.register(row.end + this.#retainMs, window);
      this.#sink.append(this.#topic, { key: encodeKey(element.key), value: bytes, timestamp: element.timestamp });
    }
  }

  onWatermark(watermark: number): number {
    for (let due = this.#done.pollDue(watermark); due !== undefined; due = this.#done.pollDue(watermark)) this.#last.delete(keyId(due.key));
    return watermark;
  }

  /** Always an object, so a restore runs on durable state too (it rebuilds the done times). */
  snapshot(): { entries?: [ReturnType<typeof keyId>, LastWritten][] } {
    return this.#last.durable ? {} : { entries: [...this.#last.entries()] };
  }

  restore(snapshot: unknown): void {
    for (const [id, entry] of (snapshot as { entries?: [ReturnType<typeof keyId>, LastWritten][] }).entries ?? []) this.#last.set(id, entry);
    // The windows' done times go back into the queue, in time order.
    const windows = [...this.#last.entries()].map(([, entry]) => entry.window).sort((a, b) => a[2] - b[2]);
    for (const window of windows) this.#done.register(window[2] + this.#retainMs, window);
  }
}

/** A row of a complete-mode result: its record key and value (a window result or a table row). */
interface CompleteRow {
  key: unknown;
  value: unknown;
}

/**
 * Complete mode: keeps the whole result table (a table's rows, or every window's latest result)
 * and writes all of it at each checkpoint the job takes (one with input read or output
 * written: an idle job writes nothing), with a tombstone for each table row deleted since. Its
 * output is so the table as of the checkpoint, committed with it; every task writes its part.
 * @example new CompleteSinkOperator('to-totals', 'totals', buffer, { of: 'table' })
 */
export class CompleteSinkOperator implements Operator<unknown, never> {
  readonly name: string;
  readonly #topic: string;
  readonly #sink: RecordSink;
  readonly #of: 'table' | 'windows';
  readonly #onError: RecordErrorHandler;
  readonly #codec: Codec;
  readonly #rows: KeyedTable<CompleteRow>;
  /** The table keys deleted since the last write. */
  #deleted: unknown[] = [];
  #now = 0;

  constructor(name: string, topic: string, sink: RecordSink, options: { of: 'table' | 'windows'; onError?: RecordErrorHandler; codec?: Codec; table?: KeyedTable<CompleteRow> }) {
    this.name = name;
    this.#topic = topic;
    this.#sink = sink;
    this.#of = options.of;
    this.#onError = options.onError ?? rethrow;
    this.#codec = options.codec ?? jsonCodec;
    this.#rows = options.table ?? new MemoryTable();
  }

  process(batch: Element[], _out: Output<never>): void {
    for (let i = 0; i < batch.length; i++) {
      const element = batch[i];
      if (element.timestamp > this.#now) this.#now = element.timestamp;
      if (this.#of === 'windows') {
        const row = element.value as WindowRow;
        this.#rows.set(windowId(row), { key: row.key, value: row });
      } else {
        const change = element.value as Change;
        const id = keyId(change.key);
        if (change.value === null) {
          if (this.#rows.get(id) === undefined) continue;
          this.#rows.delete(id);
          this.#deleted.push(change.key);
        } else this.#rows.set(id, { key: change.key, value: change.value });
      }
    }
  }

  /** The checkpoint is about to be taken: the whole table goes into its output. */
  beforeCheckpoint(): void {
    for (const key of this.#deleted) this.#sink.append(this.#topic, { key: encodeKey(key), value: null, timestamp: this.#now });
    for (const [, row] of this.#rows.entries()) {
      let bytes: Uint8Array;
      try {
        bytes = this.#codec.encode(row.value);
      } catch (error) {
        this.#onError(undefined, error, this.name);
        continue;
      }
      this.#sink.append(this.#topic, { key: encodeKey(row.key), value: bytes, timestamp: this.#now });
    }
    this.#deleted = [];
  }

  snapshot(): unknown {
    const rows = this.#rows.durable ? undefined : [...this.#rows.entries()];
    return { now: this.#now, ...(rows === undefined ? {} : { rows }) };
  }

  restore(snapshot: unknown): void {
    const saved = snapshot as { now: number; rows?: [ReturnType<typeof keyId>, CompleteRow][] };
    this.#now = saved.now;
    for (const [id, row] of structuredClone(saved.rows ?? [])) this.#rows.set(id, row);
  }

  /** After a bounded run the result table goes on (complete mode is the whole table so far). */
  restoreEnded(snapshot: unknown): void {
    this.restore(snapshot);
  }
}
