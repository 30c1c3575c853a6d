/**
 * Bench input and output held in memory: a LogBackend whose topic `events` serves generated
 * records (values from a pre-encoded pool, event time from the position), and whose writers
 * count what they get with an order-independent checksum. Engine and hand-written loop read
 * and write through it alike, so the ratio is the cost of the engine alone.
 */
import type { BackendWriter, FetchResult, LogBackend, OutgoingRecord, TopicPartitionOffset } from '../../src/backend/index.ts';
import type { Codec } from '../../src/core/index.ts';

export const KEYS = 10_000;
/** Event time advances 1 ms every EVENTS_PER_MS events (100k events per second). */
export const EVENTS_PER_MS = 100;
export const BASE_TS = Date.UTC(2026, 0, 1);
const POOL = 1 << 20;

export interface Event {
  user: number;
  v: number;
}

/** splitmix32-style hash: deterministic pseudo-random fields per event number. */
function hash(n: number): number {
  let x = (n + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

export function eventAt(n: number): Event {
  return { user: hash(n) % KEYS, v: hash(n ^ 0x5bd1e995) % 100 };
}

export class Totals {
  records = 0;
  checksum = 0;

  add(records: OutgoingRecord[]): void {
    this.records += records.length;
    for (const r of records) {
      // FNV-1a over the value bytes, summed: the same for any order of the same outputs.
      let h = 0x811c9dc5;
      const v = r.value!;
      for (let i = 0; i < v.length; i++) h = Math.imul(h ^ v[i], 16777619);
      this.checksum = (this.checksum + (h >>> 0)) % 4294967296;
    }
  }
}

export class GeneratedBackend implements LogBackend {
  readonly kind = 'memory' as const;
  readonly partitionCount: number;
  readonly perPartition: number;
  readonly totals = new Totals();
  readonly #pool: Uint8Array[] = [];
  readonly #topics = new Map<string, number>();

  constructor(events: number, partitions: number, codec: Codec<Event>) {
    this.partitionCount = partitions;
    this.perPartition = Math.ceil(events / partitions);
    const size = Math.min(POOL, events);
    for (let i = 0; i < size; i++) this.#pool.push(codec.encode(eventAt(i)));
    this.#topics.set('events', partitions);
  }

  async ensureTopic(topic: string, partitions = 1): Promise<number> {
    if (!this.#topics.has(topic)) this.#topics.set(topic, partitions);
    return this.#topics.get(topic)!;
  }
  async partitions(topic: string): Promise<number> {
    return this.#topics.get(topic)!;
  }
  async startOffsets(topic: string): Promise<number[]> {
    return new Array(this.#topics.get(topic)!).fill(0);
  }
  async endOffsets(topic: string): Promise<number[]> {
    return new Array(this.#topics.get(topic)!).fill(topic === 'events' ? this.perPartition : 0);
  }
  async fetch(_topic: string, partition: number, offset: number, maxRecords: number): Promise<FetchResult> {
    return this.fetchSync(partition, offset, maxRecords);
  }
  /** Event number n = offset * partitions + partition: partitions interleave in event time. */
  fetchSync(partition: number, offset: number, maxRecords: number): FetchResult {
    const end = Math.min(this.perPartition, offset + maxRecords);
    const records = [];
    const mask = this.#pool.length;
    for (let o = offset; o < end; o++) {
      const n = o * this.partitionCount + partition;
      records.push({ key: null, value: this.#pool[n % mask], timestamp: BASE_TS + Math.floor(n / EVENTS_PER_MS), offset: o });
    }
    return { records, nextOffset: end };
  }
  async waitForData(): Promise<void> {}
  async committedOffsets(): Promise<Map<number, number>> {
    return new Map();
  }
  async commitOffsets(_group: string, _offsets: TopicPartitionOffset[]): Promise<void> {}
  async openWriter(): Promise<BackendWriter> {
    const totals = this.totals;
    return {
      // The app's own checkpoint records are not results: count only the sink's output.
      send: async (topic, records) => {
        if (!topic.endsWith('.checkpoints')) totals.add(records);
      },
      beginTransaction: async () => {},
      sendOffsetsToTransaction: async () => {},
      commitTransaction: async () => {},
      abortTransaction: async () => {},
      close: async () => {},
    };
  }
  async close(): Promise<void> {}
}

/** A fixed 8-byte layout for events: the codec a team would pick when JSON costs too much. */
export const binaryEventCodec: Codec<Event> = {
  name: 'event-binary',
  encode(e) {
    const bytes = new Uint8Array(8);
    const view = new DataView(bytes.buffer);
    view.setInt32(0, e.user);
    view.setInt32(4, e.v);
    return bytes;
  },
  decode(bytes) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { user: view.getInt32(0), v: view.getInt32(4) };
  },
};

/** Numbers of a flat object in a fixed order, as float64: outputs of the binary variant. */
export function binaryRecordCodec<T extends object>(fields: (keyof T)[]): Codec<T> {
  return {
    name: 'record-binary',
    encode(value) {
      const bytes = new Uint8Array(fields.length * 8);
      const view = new DataView(bytes.buffer);
      for (let i = 0; i < fields.length; i++) view.setFloat64(i * 8, value[fields[i]] as number);
      return bytes;
    },
    decode(bytes) {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return Object.fromEntries(fields.map((f, i) => [f, view.getFloat64(i * 8)])) as T;
    },
  };
}
