/**
 * The pattern operator (CEP): finds a pattern in each key's events, in event-time order.
 *
 * - Event time: records wait in their key's buffer and are released to the NFA in event-time
 *   order as the watermark W passes them (time < W); ties break by source position (topic,
 *   partition, offset), then arrival. So the matches are a function of the input logs whatever
 *   the batching, timing and restarts. Partial matches expire at `first event + within`: they
 *   end when an event at or after that time comes, or W reaches it (timed-out output).
 * - A record with time < its own partition's watermark before it (W_before), or behind what the
 *   key already released, is late: counted (`lateRecords`), and sent to the late-data side
 *   output when one is set, else dropped.
 * - Processing time: records match in arrival order, stamped with the clock; expiry follows the clock.
 * - Results: matches on the main output (`{ step: events[] }`, stamped with the last event's
 *   time, or the expiry for a pattern ending in notFollowedBy), timed-out partial matches on the
 *   side output `timedOutTag` as `{ match, timeoutAt }`.
 * - State: one table entry per key (buffered records, the NFA's shared buffer and runs); a
 *   durable table (lmdb) checkpoints it, a heap table goes inside the snapshot. Keys with
 *   nothing left are deleted, so state is bounded by what `within` keeps alive.
 *
 * @example
 * new PatternOperator({ name: 'fraud', pattern: spec, skip: { kind: 'skipPastLastEvent' } })
 */
import { Packr } from 'msgpackr';
import { SluiceError } from '../core/errors.ts';
import { type KeyedTable, type KeyIdValue, keyId, MemoryTable } from '../state/index.ts';
import { type Element, type Operator, type Output, positionField, positionOf } from './operator.ts';
import { Nfa, type NfaKeyState, type NfaPatternSpec, type NfaSink, type NfaSkip, newKeyState } from './pattern-nfa.ts';
import { describeKey, type RecordErrorHandler, rethrow } from './record-error.ts';
import { TimerQueue } from './timer-queue.ts';


/** Encodes heap-table snapshots: Maps, Dates, infinities and shared references in event values survive. */
const SNAPSHOT_CODEC = new Packr({ structuredClone: true });

/** A record waiting for the watermark: value, time, source position, arrival number. */
interface Pending {
  v: unknown;
  t: number;
  o: [topic: string, partition: number, offset: number];
  a: number;
}

/** One key's entry: its key, records not yet released, the NFA state, and the times queued for it. */
export interface PatternKeyEntry {
  key: unknown;
  pending: Pending[];
  arrivals: number;
  nfa: NfaKeyState;
  /** The release and expiry times queued for this key (a popped time that differs is stale). */
  qe: number;
  qd: number;
}

export interface PatternOperatorOptions {
  name: string;
  pattern: NfaPatternSpec;
  skip?: NfaSkip;
  time?: 'event' | 'processing';
  /** The side-output tag of timed-out partial matches. */
  timedOutTag?: string;
  /** Where late records go; undefined: dropped (and counted). */
  lateSideOutput?: string;
  /** Without within: partial matches older than this are dropped (not reported). */
  ttlMs?: number;
  clock?: () => number;
  onError?: RecordErrorHandler;
  table?: KeyedTable<PatternKeyEntry>;
}

export interface PatternSnapshot {
  version: 1;
  watermark: number;
  lateRecords: number;
  /**
   * The keys' entries when the table is a heap table: msgpack (structured clone, as the lmdb
   * backend stores values) in base64, taken at once, so later changes cannot reach it, and far
   * cheaper than a deep copy JSON-encoded later; null when a durable table holds them.
   */
  keys: string | null;
}

export class PatternOperator implements Operator {
  readonly name: string;
  readonly #nfa: Nfa;
  readonly #processing: boolean;
  readonly #lateSideOutput: string | undefined;
  readonly #clock: () => number;
  readonly #onError: RecordErrorHandler;
  readonly #table: KeyedTable<PatternKeyEntry>;
  /** Keys with records to release, by their earliest record's time; and by their earliest expiry. */
  readonly #releases = new TimerQueue();
  readonly #expiries = new TimerQueue();
  #seq = 0;
  #watermark = Number.NEGATIVE_INFINITY;
  #lateRecords = 0;
  #partialMatches = 0;
  #bufferedEvents = 0;
  #out: Output | undefined;
  #key: unknown;
  /** The watermark before the advance under way: what emitted results carry as W_before. */
  #emitWatermark = Number.NEGATIVE_INFINITY;
  readonly #sink: NfaSink;

  constructor(options: PatternOperatorOptions) {
    this.name = options.name;
    this.#nfa = new Nfa(options.pattern, options.skip ?? { kind: 'noSkip' }, options.ttlMs);
    this.#processing = options.time === 'processing';
    this.#lateSideOutput = options.lateSideOutput;
    this.#clock = options.clock ?? Date.now;
    this.#onError = options.onError ?? rethrow;
    this.#table = options.table ?? new MemoryTable();
    const timedOutTag = options.timedOutTag ?? 'timed-out';
    this.#sink = {
      match: (match, time) => this.#out!.emit({ value: match, timestamp: time, key: this.#key, sourceWatermark: this.#emitWatermark }),
      timedOut: (match, timeoutAt) => this.#out!.side(timedOutTag, { value: { match, timeoutAt }, timestamp: timeoutAt, key: this.#key, sourceWatermark: this.#emitWatermark }),
    };
  }

  /** The steps the NFA matches (negations left out). */
  get steps(): string[] {
    return this.#nfa.stepNames;
  }
  /** Records judged late (dropped or sent to the late side output). */
  get lateRecords(): number {
    return this.#lateRecords;
  }
  /** Partial matches held over every key. */
  get partialMatches(): number {
    return this.#partialMatches;
  }
  /** Records held: waiting for the watermark, plus those the shared buffers keep for partial matches. */
  get bufferedEvents(): number {
    return this.#bufferedEvents;
  }
  get currentWatermark(): number {
    return this.#watermark;
  }

  process(batch: Element[], out: Output): void {
    this.#out = out;
    for (let i = 0; i < batch.length; i++) {
      const element = batch[i];
      if (this.#processing) {
        this.#processNow(element);
        continue;
      }
      const t = element.timestamp;
      if (typeof t !== 'number' || Number.isNaN(t)) {
        this.#onError(element, new SluiceError('INVALID_RECORD', `pattern '${this.name}': record time must be epoch milliseconds, got ${String(t)}; check the stream's timestamp extractor`, { operator: this.name, ...positionField(element) }), this.name);
        continue;
      }
      if (t < (element.sourceWatermark ?? Number.NEGATIVE_INFINITY) || t < this.#watermark) {
        this.#lateRecords++;
        if (this.#lateSideOutput !== undefined) out.side(this.#lateSideOutput, element);
        continue;
      }
      const id = keyId(element.key);
      const entry = this.#entry(id, element.key);
      const source = positionOf(element);
      const pending: Pending = { v: element.value, t, o: source ? [source.topic, source.partition, source.offset] : ['', 0, 0], a: entry.arrivals++ };
      insertSorted(entry.pending, pending);
      this.#bufferedEvents++;
      if (entry.pending[0] === pending) this.#queue(id, entry);
      this.#table.set(id, entry);
    }
  }

  onWatermark(watermark: number, out: Output): number {
    if (!(watermark > this.#watermark)) return this.#watermark;
    this.#out = out;
    this.#emitWatermark = this.#watermark;
    this.#watermark = watermark;
    if (this.#processing) {
      // Processing time ignores event time, except the end of a bounded input: expire everything.
      if (watermark === Number.POSITIVE_INFINITY) this.#drainExpiries(watermark);
      return watermark;
    }
    const releases = this.#releases;
    while (releases.size > 0 && releases.peek() < watermark) {
      const time = releases.peek();
      const id = releases.pop();
      this.#advanceKey(id, watermark, time, undefined);
    }
    this.#drainExpiries(watermark);
    return watermark;
  }

  onProcessingTime(now: number, out: Output): void {
    if (!this.#processing) return;
    this.#out = out;
    this.#emitWatermark = this.#watermark;
    this.#drainExpiries(now);
  }

  #drainExpiries(upTo: number): void {
    const expiries = this.#expiries;
    while (expiries.size > 0 && expiries.peek() <= upTo && expiries.peek() !== Number.POSITIVE_INFINITY) {
      const time = expiries.peek();
      const id = expiries.pop();
      this.#advanceKey(id, upTo, undefined, time);
    }
  }

  #entry(id: KeyIdValue, key: unknown): PatternKeyEntry {
    let entry = this.#table.get(id);
    if (entry === undefined) entry = { key, pending: [], arrivals: 0, nfa: newKeyState(), qe: Number.POSITIVE_INFINITY, qd: Number.POSITIVE_INFINITY };
    return entry;
  }

  /** Processing time: the record matches now, in arrival order. */
  #processNow(element: Element): void {
    const id = keyId(element.key);
    const entry = this.#entry(id, element.key);
    const now = this.#clock();
    this.#emitWatermark = this.#watermark;
    const before = this.#sizeOf(entry);
    this.#key = entry.key;
    this.#nfa.advance(entry.nfa, now, this.#sink);
    this.#step(entry, { v: element.value, t: now, o: ['', 0, 0], a: 0 }, element);
    this.#store(id, entry, before);
  }

  /**
   * Releases a key's records below `watermark` and ends its runs expiring by it, in time
   * order. `popped`: the queue time that brought the key here (stale when it differs).
   */
  #advanceKey(id: KeyIdValue, watermark: number, releaseTime: number | undefined, expiryTime: number | undefined): void {
    const entry = this.#table.get(id);
    if (entry === undefined) return;
    if (releaseTime !== undefined && releaseTime !== entry.qe) return;
    if (expiryTime !== undefined && expiryTime !== entry.qd) return;
    if (releaseTime !== undefined) entry.qe = Number.POSITIVE_INFINITY;
    if (expiryTime !== undefined) entry.qd = Number.POSITIVE_INFINITY;
    const before = this.#sizeOf(entry);
    this.#key = entry.key;
    const nfa = this.#nfa;
    while (entry.pending.length > 0 && entry.pending[0].t < watermark) {
      const next = entry.pending.shift()!;
      nfa.advance(entry.nfa, next.t, this.#sink);
      this.#step(entry, next, undefined);
    }
    nfa.advance(entry.nfa, watermark, this.#sink);
    this.#store(id, entry, before);
  }

  /** One record through the NFA; a condition that throws sends the record to the error handler. */
  #step(entry: PatternKeyEntry, record: Pending, element: Element | undefined): void {
    try {
      this.#nfa.event(entry.nfa, { value: record.v, time: record.t }, this.#sink);
    } catch (cause) {
      const failed: Element = element ?? { value: record.v, timestamp: record.t, key: entry.key, sourceWatermark: this.#emitWatermark, ...(record.o[0] !== '' ? { source: { topic: record.o[0], partition: record.o[1], offset: record.o[2] } } : {}) };
      const message = cause instanceof Error ? cause.message : String(cause);
      this.#onError(failed, new SluiceError('USER_FUNCTION_FAILED', `a condition of pattern '${this.name}' threw for key ${describeKey(entry.key)}: ${message}`, { cause, operator: this.name, ...positionField(failed) }), this.name);
    }
  }

  #sizeOf(entry: PatternKeyEntry): [runs: number, events: number] {
    return [entry.nfa.runs.length, entry.pending.length + entry.nfa.ne];
  }

  /** Writes the key back (or deletes it when it holds nothing), counts, and queues its next times. */
  #store(id: KeyIdValue, entry: PatternKeyEntry, before: [number, number]): void {
    const after = this.#sizeOf(entry);
    this.#partialMatches += after[0] - before[0];
    this.#bufferedEvents += after[1] - before[1];
    if (entry.pending.length === 0 && this.#nfa.isEmpty(entry.nfa)) {
      this.#table.delete(id);
      return;
    }
    this.#queue(id, entry);
    this.#table.set(id, entry);
  }

  #queue(id: KeyIdValue, entry: PatternKeyEntry): void {
    const release = entry.pending.length > 0 ? entry.pending[0].t : Number.POSITIVE_INFINITY;
    if (release < entry.qe && !this.#processing) {
      entry.qe = release;
      this.#releases.push(release, this.#seq++, id);
    }
    const expiry = this.#nfa.nextExpiry(entry.nfa);
    if (expiry < entry.qd) {
      entry.qd = expiry;
      this.#expiries.push(expiry, this.#seq++, id);
    }
  }

  snapshot(): PatternSnapshot {
    const keys = this.#table.durable ? null : Buffer.from(SNAPSHOT_CODEC.pack([...this.#table.entries()].map(([, entry]) => entry))).toString('base64');
    return { version: 1, watermark: this.#watermark, lateRecords: this.#lateRecords, keys };
  }

  restore(snapshot: unknown): void {
    const s = snapshot as PatternSnapshot;
    if (s?.version !== 1) {
      throw new SluiceError('STATE_INCOMPATIBLE', `pattern '${this.name}': the saved state is not a pattern operator's (version ${String(s?.version)}); restart without that state`, { operator: this.name });
    }
    this.#watermark = s.watermark ?? Number.NEGATIVE_INFINITY;
    this.#lateRecords = s.lateRecords;
    if (s.keys !== null) for (const entry of SNAPSHOT_CODEC.unpack(Buffer.from(s.keys, 'base64')) as PatternKeyEntry[]) this.#table.set(keyId(entry.key), entry);
    // Rebuild the queues and counters from the entries (a durable table reads them from disk).
    this.#releases.clear();
    this.#expiries.clear();
    this.#partialMatches = 0;
    this.#bufferedEvents = 0;
    for (const [id, entry] of [...this.#table.entries()]) {
      entry.qe = Number.POSITIVE_INFINITY;
      entry.qd = Number.POSITIVE_INFINITY;
      const [runs, events] = this.#sizeOf(entry);
      this.#partialMatches += runs;
      this.#bufferedEvents += events;
      this.#queue(id, entry);
      this.#table.set(id, entry);
    }
  }
}

/** Inserts in (time, topic, partition, offset, arrival) order; records mostly come in order, so search from the end. */
function insertSorted(list: Pending[], p: Pending): void {
  let i = list.length;
  while (i > 0 && comparePending(list[i - 1], p) > 0) i--;
  if (i === list.length) list.push(p);
  else list.splice(i, 0, p);
}

function comparePending(a: Pending, b: Pending): number {
  if (a.t !== b.t) return a.t - b.t;
  if (a.o[0] !== b.o[0]) return a.o[0] < b.o[0] ? -1 : 1;
  return a.o[1] - b.o[1] || a.o[2] - b.o[2] || a.a - b.a;
}
