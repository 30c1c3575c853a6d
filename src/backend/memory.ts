/**
 * A real LogBackend held in memory: topics of partitions with offsets, transactions with
 * read_committed visibility and producer fencing, and consumer-group offsets. The test kit
 * runs pipelines on it; nothing survives the process.
 */
import { partitionForKey, SluiceError } from '../core/index.ts';
import type {
  BackendWriter,
  FetchedRecord,
  FetchResult,
  LogBackend,
  OutgoingRecord,
  TopicPartitionOffset,
} from './types.ts';

export interface Txn {
  state: 'open' | 'committed' | 'aborted';
  /** Records written per partition, to release the last stable offset at the end. */
  counts: Map<Partition, number>;
}

export interface Entry {
  record: FetchedRecord;
  /** The transaction that wrote it; null for plain appends. */
  txn: Txn | null;
}

export interface Partition {
  entries: Entry[];
  /** Entries of open transactions hold back the last stable offset. */
  openEntries: number;
  waiters: Set<() => void>;
}

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
  readonly #openTxns = new Map<string, Txn>();
  #closed = false;

  async ensureTopic(topic: string, partitions = 1): Promise<number> {
    return this.createTopicSync(topic, partitions);
  }

  /** Synchronous topic creation for test setup. */
  createTopicSync(topic: string, partitions = 1): number {
    this.#checkOpen();
    const existing = this.#topics.get(topic);
    if (existing) return existing.length;
    if (!Number.isInteger(partitions) || partitions < 1) {
      throw new SluiceError('INVALID_ARGUMENT', `topic '${topic}': partitions must be a positive integer, got ${partitions}`);
    }
    const list: Partition[] = [];
    for (let i = 0; i < partitions; i++) list.push({ entries: [], openEntries: 0, waiters: new Set() });
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
    if (offset < 0 || offset > p.entries.length) {
      throw new SluiceError('OFFSET_OUT_OF_RANGE', `${topic}/${partition}: offset ${offset} is outside [0, ${p.entries.length}]`);
    }
    const records: FetchedRecord[] = [];
    let next = offset;
    while (next < end && records.length < maxRecords) {
      const entry = p.entries[next++];
      if (entry.txn === null || entry.txn.state === 'committed') records.push(entry.record);
    }
    return { records, nextOffset: next };
  }

  /** Every record a read_uncommitted reader would see, for inspecting partial output. */
  readUncommitted(topic: string, partition: number): FetchedRecord[] {
    return this.#partition(topic, partition).entries.filter((e) => e.txn?.state !== 'aborted').map((e) => e.record);
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
    this.#applyOffsets(group, offsets);
  }

  async openWriter(options: { transactionalId?: string } = {}): Promise<BackendWriter> {
    this.#checkOpen();
    const id = options.transactionalId;
    let epoch = 0;
    if (id !== undefined) {
      epoch = (this.#epochs.get(id) ?? -1) + 1;
      this.#epochs.set(id, epoch);
      // Opening a writer fences the previous one and aborts what it left open, as Kafka's initTransactions does.
      const open = this.#openTxns.get(id);
      if (open) this.endTxnSync(open, false, new Map());
    }
    return new MemoryWriter(this, id, epoch);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const list of this.#topics.values()) for (const p of list) this.#wake(p);
  }

  /** Appends records (inside `txn` when given); returns nothing, as a produce acknowledgement. */
  appendSync(topic: string, records: OutgoingRecord[], txn: Txn | null, cursor: { next: number }): void {
    this.#checkOpen();
    const list = this.#topic(topic);
    const touched = new Set<Partition>();
    for (const r of records) {
      let index: number;
      if (r.partition !== undefined) {
        index = r.partition;
        if (!Number.isInteger(index) || index < 0 || index >= list.length) {
          throw new SluiceError('PARTITION_NOT_FOUND', `topic '${topic}' has ${list.length} partitions; partition ${index} does not exist`);
        }
      } else if (r.key !== null) {
        index = partitionForKey(r.key, list.length);
      } else {
        index = cursor.next++ % list.length;
      }
      const p = list[index];
      const stored: FetchedRecord = { key: r.key, value: r.value, timestamp: r.timestamp, offset: p.entries.length };
      if (r.headers !== undefined) stored.headers = r.headers;
      p.entries.push({ record: stored, txn });
      if (txn !== null) {
        p.openEntries++;
        txn.counts.set(p, (txn.counts.get(p) ?? 0) + 1);
      }
      touched.add(p);
    }
    if (txn === null) for (const p of touched) this.#wake(p);
  }

  /** Ends a transaction: its records become visible (or are skipped) and its offsets apply. */
  endTxnSync(txn: Txn, commit: boolean, offsets: Map<string, TopicPartitionOffset[]>): void {
    if (txn.state !== 'open') return;
    txn.state = commit ? 'committed' : 'aborted';
    for (const [p, count] of txn.counts) {
      p.openEntries -= count;
      this.#wake(p);
    }
    for (const [id, open] of this.#openTxns) if (open === txn) this.#openTxns.delete(id);
    if (commit) for (const [group, list] of offsets) this.#applyOffsets(group, list);
  }

  beginTxnSync(transactionalId: string): Txn {
    const txn: Txn = { state: 'open', counts: new Map() };
    this.#openTxns.set(transactionalId, txn);
    return txn;
  }

  currentEpoch(transactionalId: string): number {
    return this.#epochs.get(transactionalId) ?? 0;
  }

  #applyOffsets(group: string, offsets: TopicPartitionOffset[]): void {
    let topics = this.#groups.get(group);
    if (!topics) this.#groups.set(group, (topics = new Map()));
    for (const { topic, partition, offset } of offsets) {
      let parts = topics.get(topic);
      if (!parts) topics.set(topic, (parts = new Map()));
      parts.set(partition, offset);
    }
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
    const p = list[partition];
    if (!p) throw new SluiceError('PARTITION_NOT_FOUND', `topic '${topic}' has ${list.length} partitions; partition ${partition} does not exist`);
    return p;
  }

  #checkOpen(): void {
    if (this.#closed) throw new SluiceError('LOG_CLOSED', 'the memory backend is closed');
  }
}

/** The last stable offset: the first offset of an open transaction, else the end. */
function lastStableOffset(p: Partition): number {
  if (p.openEntries === 0) return p.entries.length;
  for (let i = 0; i < p.entries.length; i++) {
    if (p.entries[i].txn?.state === 'open') return i;
  }
  return p.entries.length;
}

class MemoryWriter implements BackendWriter {
  readonly #backend: MemoryBackend;
  readonly #id: string | undefined;
  readonly #epoch: number;
  readonly #cursor = { next: 0 };
  #txn: Txn | null = null;
  #offsets = new Map<string, TopicPartitionOffset[]>();
  #closed = false;

  constructor(backend: MemoryBackend, id: string | undefined, epoch: number) {
    this.#backend = backend;
    this.#id = id;
    this.#epoch = epoch;
  }

  async send(topic: string, records: OutgoingRecord[]): Promise<void> {
    this.#check();
    this.#backend.appendSync(topic, records, this.#txn, this.#cursor);
  }

  async beginTransaction(): Promise<void> {
    this.#check();
    if (this.#id === undefined) {
      throw new SluiceError('INVALID_TXN_STATE', 'this writer has no transactionalId; open it with openWriter({ transactionalId })');
    }
    if (this.#txn !== null) throw new SluiceError('INVALID_TXN_STATE', 'a transaction is already open; commit or abort it first');
    this.#txn = this.#backend.beginTxnSync(this.#id);
    this.#offsets = new Map();
  }

  async sendOffsetsToTransaction(group: string, offsets: TopicPartitionOffset[]): Promise<void> {
    this.#check();
    if (this.#txn === null) throw new SluiceError('INVALID_TXN_STATE', 'sendOffsetsToTransaction needs an open transaction; call beginTransaction() first');
    const list = this.#offsets.get(group) ?? [];
    list.push(...offsets.map((o) => ({ ...o })));
    this.#offsets.set(group, list);
  }

  async commitTransaction(): Promise<void> {
    this.#end(true);
  }

  async abortTransaction(): Promise<void> {
    this.#end(false);
  }

  async close(): Promise<void> {
    if (this.#txn !== null && !this.#fenced()) this.#end(false);
    this.#closed = true;
  }

  #end(commit: boolean): void {
    this.#check();
    if (this.#txn === null) throw new SluiceError('INVALID_TXN_STATE', 'no transaction is open; call beginTransaction() first');
    this.#backend.endTxnSync(this.#txn, commit, this.#offsets);
    this.#txn = null;
  }

  #fenced(): boolean {
    return this.#id !== undefined && this.#backend.currentEpoch(this.#id) !== this.#epoch;
  }

  #check(): void {
    if (this.#closed) throw new SluiceError('LOG_CLOSED', 'this writer is closed');
    if (this.#fenced()) {
      if (this.#txn !== null) {
        this.#backend.endTxnSync(this.#txn, false, new Map());
        this.#txn = null;
      }
      throw new SluiceError('PRODUCER_FENCED', `a newer writer with transactionalId '${this.#id}' was opened; this one is fenced`);
    }
  }
}
