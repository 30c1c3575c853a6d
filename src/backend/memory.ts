/**
 * A real LogBackend held in memory, held to the same contract as the embedded log
 * (test/backend/contract.ts): topics of partitions with offsets, transactions whose commit and
 * abort markers take an offset as Kafka's do, read_committed visibility up to the last stable
 * offset, producer fencing, prepared (two-phase) transactions, and consumer-group offsets. The
 * test kit runs pipelines on it; nothing survives the process.
 *
 * Compacted topics are compacted as the embedded log compacts its closed segments: once the
 * bytes written since the last pass reach a segment's size (4 MiB, as the embedded log's
 * internal compacted topics), the stable records since then are cleaned: of each key only the
 * last committed record stays (offsets stay: removed ones are gaps readers skip), and aborted
 * records go. Recent history stays readable, as in the real log's active segment. Without it,
 * every checkpoint of the memory state (one record of the whole state per commit, in
 * `<app>.checkpoints`) would stay in memory for the life of the process.
 */
import { partitionForKey, SluiceError } from '../core/index.ts';
import type {
  BackendRecord,
  BackendWriter,
  FetchedRecord,
  FetchResult,
  LogBackend,
  OutgoingRecord,
  TopicPartitionOffset,
} from './types.ts';

export interface Txn {
  readonly id: string;
  readonly transactionalId: string;
  readonly epoch: number;
  /** `prepared` outlives the writer that prepared it, for the next writer with its id to decide. */
  state: 'open' | 'prepared' | 'committed' | 'aborted';
  /** Offsets that apply if and only if it commits, per group, in the order sent. */
  offsets: Map<string, TopicPartitionOffset[]>;
  /** Partitions written, each with the transaction's first offset there. */
  first: Map<Partition, number>;
}

export interface Entry {
  record: FetchedRecord;
  /** The transaction that wrote it; null for plain appends. */
  txn: Txn | null;
  /** A commit or abort marker, or a record compaction removed: takes an offset, never read. */
  control: boolean;
}

export interface Partition {
  entries: Entry[];
  /** Transactions not yet ended that wrote here, with their first offset: they hold back the last stable offset. */
  open: Map<Txn, number>;
  waiters: Set<() => void>;
  /** Compacted topics only. */
  compaction?: Compaction;
}

export interface Compaction {
  /** Per key (its bytes as latin1), the offset of its last committed record cleaned. */
  latest: Map<string, number>;
  /** Entries below it are cleaned. */
  cleanedTo: number;
  /** Bytes (keys and values) of the entries from `cleanedTo` on. */
  dirtyBytes: number;
}

/** Bytes written to a compacted partition that start a compaction pass (the embedded log's segment of an internal compacted topic). */
const COMPACTED_SEGMENT_BYTES = 4 << 20;

export interface MemoryBackendOptions {
  /** Bytes written to a compacted partition after which its stable records are compacted; default 4 MiB. */
  compactedSegmentBytes?: number;
}

/** The same names the embedded log accepts, so a test cannot pass here with a topic the real log refuses. */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/**
 * The in-memory backend.
 * @example
 * const backend = new MemoryBackend();
 * await backend.ensureTopic('events', 3);
 * const writer = await backend.openWriter();
 * await writer.send('events', [{ key: null, value: utf8('{"a":1}'), timestamp: 0 }]);
 */
export class MemoryBackend implements LogBackend {
  readonly kind = 'memory' as const;
  readonly #topics = new Map<string, Partition[]>();
  readonly #groups = new Map<string, Map<string, Map<number, number>>>();
  readonly #epochs = new Map<string, number>();
  /** Per transactional id, its transaction not yet ended (open or prepared). */
  readonly #pending = new Map<string, Txn>();
  #txnCounter = 0;
  #roundRobin = 0;
  #closed = false;
  readonly #segmentBytes: number;

  constructor(options: MemoryBackendOptions = {}) {
    this.#segmentBytes = options.compactedSegmentBytes ?? COMPACTED_SEGMENT_BYTES;
  }

  async ensureTopic(topic: string, partitions = 1, options: { compact?: boolean } = {}): Promise<number> {
    return this.createTopicSync(topic, partitions, options);
  }

  /** Synchronous topic creation for test setup. */
  createTopicSync(topic: string, partitions = 1, options: { compact?: boolean } = {}): number {
    this.#checkOpen();
    if (typeof topic !== 'string' || !TOPIC_NAME.test(topic) || topic === '.' || topic === '..') {
      throw new SluiceError(
        'INVALID_TOPIC_NAME',
        `'${topic}' is not a valid topic name: use 1 to 249 letters, digits, '.', '_' or '-' (and not '.' or '..')`,
      );
    }
    const existing = this.#topics.get(topic);
    if (existing) return existing.length;
    if (!Number.isInteger(partitions) || partitions < 1) {
      throw new SluiceError('INVALID_ARGUMENT', `topic '${topic}': partitions must be an integer of at least 1, got ${partitions}`);
    }
    const list: Partition[] = [];
    for (let i = 0; i < partitions; i++) list.push(options.compact ? { entries: [], open: new Map(), waiters: new Set(), compaction: { latest: new Map(), cleanedTo: 0, dirtyBytes: 0 } } : { entries: [], open: new Map(), waiters: new Set() });
    this.#topics.set(topic, list);
    return partitions;
  }

  hasTopic(topic: string): boolean {
    return this.#topics.has(topic);
  }

  topicNames(): string[] {
    return [...this.#topics.keys()].sort();
  }

  async partitions(topic: string): Promise<number> {
    return this.#topic(topic).length;
  }

  async startOffsets(topic: string): Promise<number[]> {
    return this.#topic(topic).map(() => 0);
  }

  async endOffsets(topic: string): Promise<number[]> {
    return this.#topic(topic).map((p) => lastStableOffset(p));
  }

  async fetch(topic: string, partition: number, offset: number, maxRecords: number): Promise<FetchResult> {
    return this.fetchSync(topic, partition, offset, maxRecords);
  }

  /** Synchronous read_committed fetch (the async one wraps it). */
  fetchSync(topic: string, partition: number, offset: number, maxRecords: number): FetchResult {
    const p = this.#partition(topic, partition);
    const end = lastStableOffset(p);
    if (!Number.isInteger(offset) || offset < 0 || offset > p.entries.length) {
      throw new SluiceError('OFFSET_OUT_OF_RANGE', `${topic}/${partition}: offset ${offset} is outside [0, ${p.entries.length}]`);
    }
    const records: FetchedRecord[] = [];
    let next = offset;
    while (next < end && records.length < maxRecords) {
      const entry = p.entries[next++];
      if (!entry.control && (entry.txn === null || entry.txn.state === 'committed')) records.push(entry.record);
    }
    return { records, nextOffset: next };
  }

  /** Every record a read_uncommitted reader sees (open and aborted transactions' records too), for inspecting partial output. */
  readUncommitted(topic: string, partition: number): FetchedRecord[] {
    return this.#partition(topic, partition)
      .entries.filter((e) => !e.control)
      .map((e) => e.record);
  }

  waitForData(topic: string, partition: number, offset: number, timeoutMs: number): Promise<void> {
    const p = this.#partition(topic, partition);
    if (lastStableOffset(p) > offset || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        p.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      p.waiters.add(done);
    });
  }

  async committedOffsets(group: string, topic: string): Promise<Map<number, number>> {
    return new Map(this.#groups.get(group)?.get(topic) ?? []);
  }

  async commitOffsets(group: string, offsets: TopicPartitionOffset[]): Promise<void> {
    this.#checkOpen();
    checkGroup(group);
    this.#applyOffsets(group, offsets);
  }

  async openWriter(options: { transactionalId?: string } = {}): Promise<BackendWriter> {
    this.#checkOpen();
    const id = options.transactionalId;
    if (id === undefined) return new MemoryWriter(this, undefined, 0, undefined);
    if (!id) throw new SluiceError('INVALID_ARGUMENT', 'transactionalId must be a non-empty string');
    const epoch = (this.#epochs.get(id) ?? -1) + 1;
    this.#epochs.set(id, epoch);
    // Opening a writer fences the previous one and aborts what it left open, as Kafka's
    // initTransactions does; a prepared transaction is kept for the new writer to decide.
    const left = this.#pending.get(id);
    if (left?.state === 'open') this.endTxnSync(left, false);
    return new MemoryWriter(this, id, epoch, left?.state === 'prepared' ? left : undefined);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const list of this.#topics.values()) for (const p of list) this.#wake(p);
  }

  /** Appends records (inside `txn` when given); checks every record's partition before appending any. */
  appendSync(topic: string, records: readonly OutgoingRecord[], txn: Txn | null): void {
    this.#checkOpen();
    const list = this.#topic(topic);
    const n = list.length;
    // Unkeyed records rotate record by record over the partitions, as the embedded log places them.
    // With one partition every record goes to it: no array of targets, no hash of the key.
    const targets = n === 1 ? undefined : new Array<Partition>(records.length);
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      const index = r.partition ?? (r.key === null ? this.#roundRobin++ % n : n === 1 ? 0 : partitionForKey(r.key, n));
      if (!(index >= 0 && index < n && Number.isInteger(index))) {
        throw new SluiceError('PARTITION_NOT_FOUND', `record ${i}: topic '${topic}' has partitions 0 to ${n - 1}, not ${index}`);
      }
      if (targets !== undefined) targets[i] = list[index];
    }
    // Partitions in the order first written (their transaction's first offset, then their waiters).
    const touched: Partition[] = [];
    let last: Partition | undefined;
    for (let i = 0; i < records.length; i++) {
      const p = targets === undefined ? list[0] : targets[i];
      const offset = p.entries.length;
      if (p !== last) {
        last = p;
        if (!touched.includes(p)) {
          touched.push(p);
          if (txn !== null && !txn.first.has(p)) {
            txn.first.set(p, offset);
            p.open.set(txn, offset);
          }
        }
      }
      p.entries.push({ record: stored(records[i], offset), txn, control: false });
      if (p.compaction !== undefined) p.compaction.dirtyBytes += recordBytes(records[i]);
    }
    for (const p of touched) this.#maybeCompact(p);
    if (txn === null) for (const p of touched) this.#wake(p);
  }

  beginTxnSync(transactionalId: string, epoch: number): Txn {
    const txn: Txn = {
      id: `${transactionalId}.${epoch}.${this.#txnCounter++}`,
      transactionalId,
      epoch,
      state: 'open',
      offsets: new Map(),
      first: new Map(),
    };
    this.#pending.set(transactionalId, txn);
    return txn;
  }

  /** Ends a transaction: a marker in every partition it wrote, its records visible (or skipped), its offsets applied on commit. */
  endTxnSync(txn: Txn, commit: boolean): void {
    if (txn.state === 'committed' || txn.state === 'aborted') return;
    txn.state = commit ? 'committed' : 'aborted';
    for (const p of txn.first.keys()) {
      p.entries.push({ record: { key: null, value: null, timestamp: Date.now(), offset: p.entries.length }, txn, control: true });
      p.open.delete(txn);
      this.#maybeCompact(p);
      this.#wake(p);
    }
    if (this.#pending.get(txn.transactionalId) === txn) this.#pending.delete(txn.transactionalId);
    if (commit) for (const [group, list] of txn.offsets) this.#applyOffsets(group, list);
  }

  currentEpoch(transactionalId: string): number {
    return this.#epochs.get(transactionalId) ?? 0;
  }

  #applyOffsets(group: string, offsets: readonly TopicPartitionOffset[]): void {
    let topics = this.#groups.get(group);
    if (!topics) this.#groups.set(group, (topics = new Map()));
    for (const { topic, partition, offset } of offsets) {
      let parts = topics.get(topic);
      if (!parts) topics.set(topic, (parts = new Map()));
      parts.set(partition, offset);
    }
  }

  /** A compacted partition with a segment's bytes written since its last pass: its stable records are cleaned. */
  #maybeCompact(p: Partition): void {
    const c = p.compaction;
    if (c === undefined || c.dirtyBytes < this.#segmentBytes) return;
    // Only stable records are cleaned (an open transaction's wait for its end): each entry is visited once.
    const end = lastStableOffset(p);
    for (let offset = c.cleanedTo; offset < end; offset++) {
      const entry = p.entries[offset];
      if (entry.control) continue;
      c.dirtyBytes -= recordBytes(entry.record);
      if (entry.txn?.state === 'aborted') removeEntry(p, offset);
      else compactOlder(p, c, offset);
    }
    c.cleanedTo = end;
  }

  #wake(p: Partition): void {
    for (const waiter of [...p.waiters]) waiter();
  }

  #topic(topic: string): Partition[] {
    const list = this.#topics.get(topic);
    if (!list) {
      throw new SluiceError('TOPIC_NOT_FOUND', `topic '${topic}' does not exist; create it first (backend.ensureTopic('${topic}', partitions))`);
    }
    return list;
  }

  #partition(topic: string, partition: number): Partition {
    const list = this.#topic(topic);
    const p = Number.isInteger(partition) ? list[partition] : undefined;
    if (!p) throw new SluiceError('PARTITION_NOT_FOUND', `topic '${topic}' has partitions 0 to ${list.length - 1}, not ${partition}`);
    return p;
  }

  #checkOpen(): void {
    if (this.#closed) throw new SluiceError('LOG_CLOSED', 'the memory backend is closed');
  }
}

/** A committed record of a compacted partition is cleaned: the older record of its key is removed. */
function compactOlder(p: Partition, c: Compaction, offset: number): void {
  const key = p.entries[offset].record.key;
  if (key === null) return; // unkeyed records are never compacted away
  const id = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
  const older = c.latest.get(id);
  if (older !== undefined) removeEntry(p, older);
  c.latest.set(id, offset);
}

function recordBytes(r: BackendRecord): number {
  return (r.key?.byteLength ?? 0) + (r.value?.byteLength ?? 0);
}

/** The record at `offset` is gone: a gap that readers skip, as a control entry is. */
function removeEntry(p: Partition, offset: number): void {
  const { timestamp } = p.entries[offset].record;
  p.entries[offset] = { record: { key: null, value: null, timestamp, offset }, txn: null, control: true };
}

/** The last stable offset: the first offset of a transaction not yet ended, else the end. */
function lastStableOffset(p: Partition): number {
  let lso = p.entries.length;
  for (const first of p.open.values()) if (first < lso) lso = first;
  return lso;
}

/**
 * The stored record holds the caller's bytes, not a copy, and readers get the stored object
 * itself: copying or freezing every record costs more than the rest of the backend together,
 * and the test kit and the benchmarks run on it. So a sender must not reuse a buffer it sent,
 * and a reader must not change what it fetched (the engine does neither).
 */
function stored(r: BackendRecord, offset: number): FetchedRecord {
  return r.headers === undefined
    ? { key: r.key, value: r.value, timestamp: r.timestamp, offset }
    : { key: r.key, value: r.value, timestamp: r.timestamp, offset, headers: r.headers };
}

function checkGroup(group: string): void {
  if (!group) throw new SluiceError('INVALID_ARGUMENT', 'a consumer group needs a non-empty name');
}

class MemoryWriter implements BackendWriter {
  readonly #backend: MemoryBackend;
  readonly #id: string | undefined;
  readonly #epoch: number;
  #txn: Txn | null = null;
  /** A prepared transaction an earlier writer with this id left, until `completePrepared`. */
  #left: Txn | undefined;
  #closed = false;

  constructor(backend: MemoryBackend, id: string | undefined, epoch: number, left: Txn | undefined) {
    this.#backend = backend;
    this.#id = id;
    this.#epoch = epoch;
    this.#left = left;
  }

  get pendingPrepared(): string | undefined {
    return this.#left?.id;
  }

  async send(topic: string, records: OutgoingRecord[]): Promise<void> {
    this.#check();
    if (this.#id !== undefined && this.#txn === null) {
      throw new SluiceError('INVALID_TXN_STATE', 'a transactional writer sends inside a transaction: call beginTransaction() first');
    }
    if (this.#txn?.state === 'prepared') throw new SluiceError('INVALID_TXN_STATE', `transaction ${this.#txn.id} is prepared; commit or abort it first`);
    this.#backend.appendSync(topic, records, this.#txn);
  }

  async beginTransaction(): Promise<void> {
    const id = this.#transactional();
    if (this.#left !== undefined) throw new SluiceError('INVALID_TXN_STATE', `transaction ${this.#left.id} is prepared; call completePrepared(commit) first`);
    if (this.#txn !== null) throw new SluiceError('INVALID_TXN_STATE', `transactional id '${id}' already has an open transaction ${this.#txn.id}; commit or abort it first`);
    this.#txn = this.#backend.beginTxnSync(id, this.#epoch);
  }

  async sendOffsetsToTransaction(group: string, offsets: TopicPartitionOffset[]): Promise<void> {
    const txn = this.#open('sendOffsetsToTransaction');
    checkGroup(group);
    const list = txn.offsets.get(group) ?? [];
    list.push(...offsets.map((o) => ({ ...o })));
    txn.offsets.set(group, list);
  }

  async prepareTransaction(): Promise<string> {
    const txn = this.#open('prepareTransaction');
    txn.state = 'prepared';
    return txn.id;
  }

  async commitTransaction(): Promise<void> {
    this.#end(true);
  }

  async abortTransaction(): Promise<void> {
    this.#end(false);
  }

  async completePrepared(commit: boolean): Promise<void> {
    this.#transactional();
    if (this.#left === undefined) return;
    this.#backend.endTxnSync(this.#left, commit);
    this.#left = undefined;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // A prepared transaction outlives its writer: a checkpoint may name it, so only the next writer decides it.
    if (this.#txn?.state === 'open' && !this.#fenced()) this.#backend.endTxnSync(this.#txn, false);
    this.#txn = null;
    this.#closed = true;
  }

  #end(commit: boolean): void {
    const txn = this.#open(commit ? 'commitTransaction' : 'abortTransaction');
    this.#backend.endTxnSync(txn, commit);
    this.#txn = null;
  }

  #open(what: string): Txn {
    const id = this.#transactional();
    if (this.#txn === null) throw new SluiceError('INVALID_TXN_STATE', `transactional id '${id}' has no open transaction for ${what}; call beginTransaction() first`);
    return this.#txn;
  }

  #transactional(): string {
    this.#check();
    if (this.#id === undefined) {
      throw new SluiceError('INVALID_TXN_STATE', 'transactions need a writer opened with a transactionalId: openWriter({ transactionalId })');
    }
    return this.#id;
  }

  #fenced(): boolean {
    return this.#id !== undefined && this.#backend.currentEpoch(this.#id) !== this.#epoch;
  }

  #check(): void {
    if (this.#closed) throw new SluiceError('LOG_CLOSED', 'this writer is closed');
    if (this.#fenced()) {
      this.#txn = null; // the newer writer's openWriter aborted it already
      throw new SluiceError('PRODUCER_FENCED', `a newer writer with transactionalId '${this.#id}' was opened; this one is fenced`);
    }
  }
}
