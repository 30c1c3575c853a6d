/**
 * The interval join (Flink's `a.keyBy(f).intervalJoin(b.keyBy(g)).between(lower, upper)`): pairs
 * of one key with `left.ts + lower <= right.ts <= left.ts + upper` (exclusive bounds are
 * narrowed by 1 ms here, as Flink does), and for left and outer joins each unmatched record
 * once, with null for the other side.
 *
 * Determinism: a record is not joined when it arrives but buffered, and a key's records are
 * taken in event-time order (time, left before right, then source position) once the
 * watermark passes them (W > ts). A record taken then meets every record of the other side
 * taken before it that is still held, so each pair is emitted exactly once, by the later of
 * its two records, stamped with its time: max(left.ts, right.ts). Held records expire when the
 * watermark passes the last time a later record could match them: a left one when
 * W > ts + upper, a right one when W > ts - lower; an unmatched one of a left (outer) join is
 * emitted then, stamped with its own time, so no pair can follow it. A key's takes and
 * expiries run in one timeline ordered by the watermark that triggers them (takes first on a
 * tie), so the output of a key is the same whatever the batching of records and watermarks.
 *
 * Lateness: a record with `ts < W_before` (its own source partition's watermark before it) is
 * late, dropped and counted, or sent to the late side output; so is one behind the operator's
 * watermark (only when idle partitions let the watermark run ahead of a partition).
 *
 * The watermark forwarded is held back by how far behind the watermark an unmatched record's
 * output can be stamped (upper for left joins, and -lower for outer ones), so downstream
 * windows see those results on time.
 *
 * State: one entry per key in the operator's keyed table (heap, saved in the snapshot; or
 * lmdb, checkpointed by the backend), one timer per key rebuilt from the table on restore.
 * A heap snapshot copies only the keys changed since the last snapshot: the others reuse the
 * copy taken then (`#saved`). A copy is of the operator's own structures (lists, held records
 * with their match flag); the records' values are shared, as the join itself relies on them not
 * changing while held (it hands them to `fn` again for each later pair).
 *
 * @example
 * new IntervalJoinOperator({ name: 'clicks', lowerMs: -600_000, upperMs: 600_000, type: 'inner', fn: (i, c) => c.ts - i.ts })
 */
import { SluiceError } from '../core/errors.ts';
import { type KeyedTable, type KeyIdValue, keyId, MemoryTable } from '../state/index.ts';
import { byTime, type HeldRecord, isSided, joinFailure, LEFT, notSided, orderOf } from './join-common.ts';
import { type Element, type Operator, type Output, positionField } from './operator.ts';
import { type RecordErrorHandler, rethrow } from './record-error.ts';
import { TimerQueue } from './timer-queue.ts';

export type IntervalJoinType = 'inner' | 'left' | 'outer';

export interface IntervalJoinConfig {
  name: string;
  /** Inclusive bounds, ms: `left.ts + lowerMs <= right.ts <= left.ts + upperMs`. */
  lowerMs: number;
  upperMs: number;
  type: IntervalJoinType;
  /** `fn(left, right, ctx)`; for unmatched records the missing side is null. `undefined` emits nothing. */
  fn: (left: any, right: any, ctx: any) => unknown;
  /** Topic for late records; default: dropped (and counted). */
  lateSideOutput?: string;
  onError?: RecordErrorHandler;
  /** Where each key's records live (default the heap; the lmdb backend gives a durable table). */
  table?: KeyedTable<KeyJoinState> | undefined;
}

/** A record held for matching, and whether it matched yet (left and outer joins emit it alone if not). */
export interface JoinedRecord extends HeldRecord {
  m: boolean;
}

/** One key's records, as the keyed table holds them (plain data). */
export interface KeyJoinState {
  key: unknown;
  /** Creation order: ties between keys due at one time fire in it. */
  seq: number;
  /** Arrived and not taken yet (ts >= the watermark), sorted by `byTime`. */
  pending: HeldRecord[];
  /** Taken and held, in the order taken (so by time). */
  left: JoinedRecord[];
  right: JoinedRecord[];
  /** The time of the key's live timer; +Infinity when none. */
  timerAt: number;
}

export interface IntervalJoinSnapshot {
  version: 1;
  watermark: number;
  forwarded: number;
  lateRecords: number;
  nextSeq: number;
  arrival: number;
  /** The keys, absent when the table is durable (the backend checkpoints it). */
  keys?: KeyJoinState[];
}

/** The first index at or after `from` whose record's time is >= t (records sorted by time). */
function firstFrom(list: JoinedRecord[], from: number, t: number): number {
  let lo = from;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].t < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class IntervalJoinOperator implements Operator {
  readonly name: string;
  readonly #lower: number;
  readonly #upper: number;
  readonly #type: IntervalJoinType;
  readonly #fn: (left: unknown, right: unknown, ctx: unknown) => unknown;
  readonly #lateSideOutput: string | undefined;
  readonly #onError: RecordErrorHandler;
  readonly #table: KeyedTable<KeyJoinState>;
  readonly #timers = new TimerQueue();
  /** How far behind the watermark an output may be stamped: the watermark forwarded is this much lower. */
  readonly #holdBack: number;
  #watermark = Number.NEGATIVE_INFINITY;
  #forwarded = Number.NEGATIVE_INFINITY;
  #lateRecords = 0;
  #nextSeq = 0;
  #arrival = 0;
  #out: Output | undefined;
  /** Heap tables: each key's copy as of the last snapshot, dropped when the key changes after it. */
  readonly #saved = new Map<KeyIdValue, KeyJoinState>();

  constructor(config: IntervalJoinConfig) {
    if (!Number.isFinite(config.lowerMs) || !Number.isFinite(config.upperMs) || config.lowerMs > config.upperMs) {
      throw new SluiceError('INVALID_ARGUMENT', `interval join '${config.name}': bounds [${config.lowerMs}, ${config.upperMs}] hold no time; give finite bounds with lower <= upper, such as .between('-10m', '10m')`);
    }
    this.name = config.name;
    this.#lower = config.lowerMs;
    this.#upper = config.upperMs;
    this.#type = config.type;
    this.#fn = config.fn;
    this.#lateSideOutput = config.lateSideOutput;
    this.#onError = config.onError ?? rethrow;
    this.#table = config.table ?? new MemoryTable<KeyJoinState>();
    this.#holdBack = config.type === 'inner' ? 0 : config.type === 'left' ? Math.max(0, config.upperMs) : Math.max(0, config.upperMs, -config.lowerMs);
  }

  /** Records later than the watermark (dropped, or sent to the late side output). */
  get lateRecords(): number {
    return this.#lateRecords;
  }

  process(batch: Element[], out: Output): void {
    this.#out = out;
    for (const element of batch) {
      const sided = element.value;
      if (!isSided(sided)) {
        this.#onError(element, notSided(this.name), this.name);
        continue;
      }
      const ts = element.timestamp;
      if (typeof ts !== 'number' || Number.isNaN(ts)) {
        const error = new SluiceError('INVALID_RECORD', `interval join '${this.name}': record time must be epoch milliseconds, got ${String(ts)}; check the stream's timestamp extractor`, {
          operator: this.name,
          ...positionField(element),
        });
        this.#onError(element, error, this.name);
        continue;
      }
      if (ts < element.sourceWatermark || ts < this.#watermark) {
        this.#lateRecords++;
        if (this.#lateSideOutput !== undefined) out.side(this.#lateSideOutput, { ...element, value: sided.value });
        continue;
      }
      const id = keyId(element.key);
      const state = this.#table.get(id) ?? { key: element.key, seq: this.#nextSeq++, pending: [], left: [], right: [], timerAt: Number.POSITIVE_INFINITY };
      const record: HeldRecord = { s: sided.side, t: ts, o: orderOf(element, this.#arrival++), v: sided.value };
      const pending = state.pending;
      let i = pending.length;
      while (i > 0 && byTime(pending[i - 1], record) > 0) i--;
      if (i === pending.length) pending.push(record);
      else pending.splice(i, 0, record);
      this.#schedule(id, state);
      this.#put(id, state);
    }
  }

  onWatermark(watermark: number, out: Output): number {
    if (!(watermark > this.#watermark)) return this.#forwarded;
    this.#out = out;
    const timers = this.#timers;
    while (timers.size > 0 && timers.peek() <= watermark) {
      const time = timers.peek();
      const id = timers.pop();
      const state = this.#table.get(id);
      if (state === undefined || state.timerAt !== time) continue; // moved or gone since
      state.timerAt = Number.POSITIVE_INFINITY;
      this.#advance(state, watermark);
      if (state.pending.length === 0 && state.left.length === 0 && state.right.length === 0) {
        this.#table.delete(id);
        this.#saved.delete(id);
        continue;
      }
      this.#schedule(id, state);
      this.#put(id, state);
    }
    this.#watermark = watermark;
    const forwarded = Number.isFinite(watermark) ? watermark - this.#holdBack : watermark;
    if (forwarded > this.#forwarded) this.#forwarded = forwarded;
    return this.#forwarded;
  }

  /** Writes a key's state back; its copy in the last snapshot is out of date from now on. */
  #put(id: KeyIdValue, state: KeyJoinState): void {
    this.#table.set(id, state);
    this.#saved.delete(id);
  }

  /** The watermark at which a key next has work: its first pending record's time + 1, or an expiry. */
  #due(state: KeyJoinState): number {
    let due = state.pending.length > 0 ? state.pending[0].t + 1 : Number.POSITIVE_INFINITY;
    if (state.left.length > 0) due = Math.min(due, state.left[0].t + this.#upper + 1);
    if (state.right.length > 0) due = Math.min(due, state.right[0].t - this.#lower + 1);
    return due;
  }

  #schedule(id: KeyIdValue, state: KeyJoinState): void {
    const due = this.#due(state);
    if (due < state.timerAt) {
      state.timerAt = due;
      this.#timers.push(due, state.seq, id);
    }
  }

  /** Runs a key's timeline up to `watermark`: takes of pending records and expiries of held ones, in trigger order. */
  #advance(state: KeyJoinState, watermark: number): void {
    const { pending, left, right } = state;
    let taken = 0;
    let leftGone = 0;
    let rightGone = 0;
    for (;;) {
      const take = taken < pending.length ? pending[taken].t + 1 : Number.POSITIVE_INFINITY;
      const expireLeft = leftGone < left.length ? left[leftGone].t + this.#upper + 1 : Number.POSITIVE_INFINITY;
      const expireRight = rightGone < right.length ? right[rightGone].t - this.#lower + 1 : Number.POSITIVE_INFINITY;
      const expire = Math.min(expireLeft, expireRight);
      // At W = +Infinity (the end of a bounded run) every time is due: stop when nothing is left.
      if (taken < pending.length && take <= watermark && take <= expire) {
        this.#take(state, pending[taken++], leftGone, rightGone);
      } else if (expire <= watermark && (leftGone < left.length || rightGone < right.length)) {
        if (expireLeft <= expireRight) this.#expire(state.key, left[leftGone++]);
        else this.#expire(state.key, right[rightGone++]);
      } else break;
    }
    if (taken > 0) pending.splice(0, taken);
    if (leftGone > 0) left.splice(0, leftGone);
    if (rightGone > 0) right.splice(0, rightGone);
  }

  /** A record's turn: it meets the held records of the other side within bounds, then is held itself. */
  #take(state: KeyJoinState, record: HeldRecord, leftFrom: number, rightFrom: number): void {
    const held: JoinedRecord = { ...record, m: false };
    if (record.s === LEFT) {
      const right = state.right;
      const last = record.t + this.#upper;
      for (let j = firstFrom(right, rightFrom, record.t + this.#lower); j < right.length && right[j].t <= last; j++) {
        this.#pair(state.key, held, right[j]);
      }
      state.left.push(held);
    } else {
      const left = state.left;
      const last = record.t - this.#lower;
      for (let j = firstFrom(left, leftFrom, record.t - this.#upper); j < left.length && left[j].t <= last; j++) {
        this.#pair(state.key, left[j], held);
      }
      state.right.push(held);
    }
  }

  #pair(key: unknown, left: JoinedRecord, right: JoinedRecord): void {
    left.m = true;
    right.m = true;
    this.#call(key, left, right, Math.max(left.t, right.t));
  }

  /** A held record no later record can match: an unmatched one is emitted alone by left and outer joins. */
  #expire(key: unknown, record: JoinedRecord): void {
    if (record.m || this.#type === 'inner' || (this.#type === 'left' && record.s !== LEFT)) return;
    if (record.s === LEFT) this.#call(key, record, null, record.t);
    else this.#call(key, null, record, record.t);
  }

  #call(key: unknown, left: HeldRecord | null, right: HeldRecord | null, timestamp: number): void {
    const ctx = { key, timestamp, leftTimestamp: left === null ? null : left.t, rightTimestamp: right === null ? null : right.t };
    let value: unknown;
    try {
      value = this.#fn(left === null ? null : left.v, right === null ? null : right.v, ctx);
    } catch (cause) {
      const element: Element = { value: { key, left: left?.v ?? null, right: right?.v ?? null }, timestamp, key, sourceWatermark: this.#forwarded };
      this.#onError(element, joinFailure(this.name, key, ctx.leftTimestamp, ctx.rightTimestamp, cause), this.name);
      return;
    }
    if (value !== undefined) this.#out!.emit({ value, timestamp, key, sourceWatermark: this.#forwarded });
  }

  snapshot(): IntervalJoinSnapshot {
    const snapshot: IntervalJoinSnapshot = {
      version: 1,
      watermark: this.#watermark,
      forwarded: this.#forwarded,
      lateRecords: this.#lateRecords,
      nextSeq: this.#nextSeq,
      arrival: this.#arrival,
    };
    if (this.#table.durable) return snapshot;
    // A copy: the entries change in place after the snapshot is taken. Unchanged keys reuse theirs.
    const keys: KeyJoinState[] = [];
    for (const [id, state] of this.#table.entries()) {
      let copy = this.#saved.get(id);
      if (copy === undefined) {
        copy = copyKeyState(state);
        this.#saved.set(id, copy);
      }
      keys.push(copy);
    }
    snapshot.keys = keys;
    return snapshot;
  }

  restore(snapshot: unknown): void {
    const s = snapshot as IntervalJoinSnapshot;
    if (s?.version !== 1 || typeof s.nextSeq !== 'number') {
      throw new SluiceError('STATE_INCOMPATIBLE', `interval join '${this.name}': the saved state is not an interval join's; restart without that state, or keep the operator`, { operator: this.name });
    }
    this.#watermark = s.watermark;
    this.#forwarded = s.forwarded;
    this.#lateRecords = s.lateRecords;
    this.#nextSeq = s.nextSeq;
    this.#arrival = s.arrival;
    this.#timers.clear();
    this.#saved.clear();
    for (const state of structuredClone(s.keys ?? [])) this.#table.set(keyId(state.key), state);
    // Every key's timer again (a durable table holds the keys as checkpointed).
    for (const [id, state] of [...this.#table.entries()]) {
      if (state.seq >= this.#nextSeq) this.#nextSeq = state.seq + 1;
      state.timerAt = Number.POSITIVE_INFINITY;
      this.#schedule(id, state);
      this.#put(id, state);
    }
  }
}

/**
 * A key's state as of now, for a snapshot: new lists, and new held records (their match flag
 * changes in place). Pending records are never changed once made, and values are shared.
 */
function copyKeyState(state: KeyJoinState): KeyJoinState {
  return {
    key: state.key,
    seq: state.seq,
    pending: state.pending.slice(),
    left: state.left.map((r) => ({ ...r })),
    right: state.right.map((r) => ({ ...r })),
    timerAt: state.timerAt,
  };
}
