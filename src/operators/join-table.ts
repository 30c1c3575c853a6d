/**
 * Stream-table joins (Kafka Streams' KStream-KTable join): each stream record (side 0) is
 * joined with its key's row of a table, kept here from the table's changelog (side 1). Only
 * stream records emit; a table change only updates the row.
 *
 * Versioned (`versionsMs`): the operator keeps each key's versions by event time and holds each
 * stream record until the operator's watermark (the minimum of both inputs') passes its time,
 * then joins the version valid at that time. Results so depend on the input logs alone, not on
 * which input was read first. A record already behind the watermark when it arrives joins at
 * once. Versions no longer valid within the retention before the watermark are dropped.
 *
 * Unversioned: a stream record joins the row the table holds when it is processed (the order
 * in which the two inputs are read decides the result, as in Kafka Streams).
 */
import type { Element, Operator, Output } from './operator.ts';
import { type RecordErrorHandler, rethrow } from './record-error.ts';
import type { Change, Version } from './table.ts';
import { KeyedTimers } from './keyed-timers.ts';
import { type KeyedTable, keyId, MemoryTable } from '../state/index.ts';

/** A stream record waiting for the watermark: its time, value and W_before. */
type Held = [time: number, value: unknown, sourceWatermark: number];

/** A key's state: its row (unversioned) or versions (versioned), and its held stream records. */
export interface JoinTableEntry {
  key: unknown;
  row?: unknown;
  versions?: Version[];
  held?: Held[];
}

export interface StreamTableJoinOptions {
  name: string;
  join: 'inner' | 'left';
  fn: (event: any, row: any) => unknown;
  versionsMs?: number;
  onError?: RecordErrorHandler;
  table?: KeyedTable<JoinTableEntry>;
}

interface Sided {
  side: 0 | 1;
  value: unknown;
}

/**
 * @example new StreamTableJoinOperator({ name: 'enrich', join: 'left', fn: (click, user) => ({ ...click, tier: user?.tier }) })
 */
export class StreamTableJoinOperator implements Operator {
  readonly name: string;
  readonly #join: 'inner' | 'left';
  readonly #fn: (event: unknown, row: unknown) => unknown;
  readonly #versionsMs: number | undefined;
  readonly #onError: RecordErrorHandler;
  readonly #state: KeyedTable<JoinTableEntry>;
  /** When each key's held records are due (rebuilt from the entries on restore). */
  readonly #due = new KeyedTimers();
  #watermark = Number.NEGATIVE_INFINITY;

  constructor(options: StreamTableJoinOptions) {
    this.name = options.name;
    this.#join = options.join;
    this.#fn = options.fn;
    this.#versionsMs = options.versionsMs;
    this.#onError = options.onError ?? rethrow;
    this.#state = options.table ?? new MemoryTable();
  }

  process(batch: Element[], out: Output): void {
    for (let i = 0; i < batch.length; i++) {
      const element = batch[i];
      const { side, value } = element.value as Sided;
      if (side === 1) this.#tableChange(element, value as Change);
      else if (this.#versionsMs === undefined || element.timestamp < this.#watermark) this.#emit(element, value, this.#rowAt(element.key, element.timestamp), out);
      else this.#hold(element, value);
    }
  }

  #tableChange(element: Element, change: Change): void {
    const id = keyId(element.key);
    const entry = this.#state.get(id) ?? { key: element.key };
    if (this.#versionsMs === undefined) {
      if (change.value === null) delete entry.row;
      else entry.row = change.value;
    } else {
      const versions = (entry.versions ??= []);
      // A versioned table sends the version it wrote; another table's change is a version at its time.
      const [time, row] = change.version ?? [element.timestamp, change.value];
      let at = versions.length;
      while (at > 0 && versions[at - 1][0] > time) at--;
      if (at > 0 && versions[at - 1][0] === time) versions[at - 1] = [time, row];
      else versions.splice(at, 0, [time, row]);
      this.#prune(versions);
    }
    this.#save(id, entry);
  }

  #hold(element: Element, value: unknown): void {
    const id = keyId(element.key);
    const entry = this.#state.get(id) ?? { key: element.key };
    (entry.held ??= []).push([element.timestamp, value, element.sourceWatermark]);
    this.#state.set(id, entry);
    this.#due.register(element.timestamp, element.key);
  }

  /** The row a stream record of `key` at `time` joins: the latest, or the version valid at `time`. */
  #rowAt(key: unknown, time: number): unknown {
    const entry = this.#state.get(keyId(key));
    if (entry === undefined) return null;
    if (this.#versionsMs === undefined) return entry.row ?? null;
    const versions = entry.versions ?? [];
    for (let i = versions.length - 1; i >= 0; i--) if (versions[i][0] <= time) return versions[i][1];
    return null;
  }

  #emit(element: Element, event: unknown, row: unknown, out: Output): void {
    if (row === null && this.#join === 'inner') return;
    let value: unknown;
    try {
      value = this.#fn(event, row);
    } catch (error) {
      this.#onError({ ...element, value: event }, error, this.name);
      return;
    }
    out.emit({ ...element, value });
  }

  /** Releases the held records the watermark passed (time < W), in time order, then forwards W. */
  onWatermark(watermark: number, out: Output): number {
    if (watermark <= this.#watermark) return this.#watermark;
    this.#watermark = watermark;
    if (this.#versionsMs === undefined) return watermark;
    const upTo = justBelow(watermark);
    const touched = new Set<ReturnType<typeof keyId>>();
    for (let due = this.#due.pollDue(upTo); due !== undefined; due = this.#due.pollDue(upTo)) {
      const id = keyId(due.key);
      const entry = this.#state.get(id);
      if (entry?.held === undefined) continue;
      const rest: Held[] = [];
      for (const held of entry.held) {
        if (held[0] !== due.time) {
          rest.push(held);
          continue;
        }
        const [time, event, sourceWatermark] = held;
        this.#emit({ value: event, timestamp: time, key: entry.key, sourceWatermark }, event, this.#rowAt(entry.key, time), out);
      }
      if (rest.length > 0) entry.held = rest;
      else delete entry.held;
      this.#state.set(id, entry);
      touched.add(id);
    }
    // Pruned once every due record joined: a record released later in this loop may need an older version.
    for (const id of touched) {
      const entry = this.#state.get(id);
      if (entry === undefined) continue;
      if (entry.versions !== undefined) this.#prune(entry.versions);
      this.#save(id, entry);
    }
    return watermark;
  }

  /** Keeps the version valid at the horizon (the watermark less the retention) and every later one. */
  #prune(versions: Version[]): void {
    const horizon = this.#watermark - this.#versionsMs!;
    let drop = 0;
    while (drop + 1 < versions.length && versions[drop + 1][0] <= horizon) drop++;
    if (drop > 0) versions.splice(0, drop);
    if (versions.length === 1 && versions[0][1] === null && versions[0][0] <= horizon) versions.length = 0;
  }

  #save(id: ReturnType<typeof keyId>, entry: JoinTableEntry): void {
    const empty = entry.row === undefined && (entry.versions === undefined || entry.versions.length === 0) && entry.held === undefined;
    if (empty) this.#state.delete(id);
    else this.#state.set(id, entry);
  }

  snapshot(): { watermark: number; entries?: JoinTableEntry[] } {
    if (this.#state.durable) return { watermark: this.#watermark };
    return { watermark: this.#watermark, entries: structuredClone([...this.#state.entries()].map(([, entry]) => entry)) };
  }

  restore(snapshot: unknown): void {
    const saved = snapshot as { watermark: number; entries?: JoinTableEntry[] };
    this.#watermark = saved.watermark ?? Number.NEGATIVE_INFINITY;
    for (const entry of structuredClone(saved.entries ?? [])) this.#state.set(keyId(entry.key), entry);
    // The held records are in the entries: their due times go back into the queue, in time order.
    const due: [number, unknown][] = [];
    for (const [, entry] of this.#state.entries()) for (const [time] of entry.held ?? []) due.push([time, entry.key]);
    due.sort((a, b) => a[0] - b[0]);
    for (const [time, key] of due) this.#due.register(time, key);
  }

  /** After a bounded run: the table's rows stay (its stream records all joined at +Infinity), the watermark starts over. */
  restoreEnded(snapshot: unknown): void {
    this.restore(snapshot);
    this.#watermark = Number.NEGATIVE_INFINITY;
  }
}

/** The largest number below `w` (so `time <= justBelow(w)` is `time < w`); infinities stay. */
export function justBelow(w: number): number {
  if (!Number.isFinite(w)) return w;
  if (w === 0) return -Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, w);
  const bits = view.getBigInt64(0);
  view.setBigInt64(0, w > 0 ? bits - 1n : bits + 1n);
  return view.getFloat64(0);
}
