/**
 * Generated input for the CEP benchmark, held in memory: a LogBackend whose topic `events`
 * serves logins and purchases of 10k users (one card each), JSON-encoded from a pre-encoded
 * pool, 100 events per second of event time (a user acts about every 100 s, so bursts and
 * foreign purchases after a login are rare, as fraud is). Writers count what they get with
 * the engine benchmark's order-independent checksum.
 */
import type { BackendWriter, FetchResult, LogBackend, TopicPartitionOffset } from '../../src/backend/index.ts';
import { Totals } from '../engine/generated.ts';

export const KEYS = 10_000;
const EVENTS_PER_SECOND = 100;
const BASE_TS = Date.UTC(2026, 0, 1);
const POOL = 1 << 20;

/** u: user (and card), t: login or purchase, c: country (0-2), n: event number. */
export interface CepEvent {
  u: number;
  t: 'login' | 'purchase';
  c: number;
  n: number;
}

function hash(n: number): number {
  let x = (n + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

export function cepEventAt(n: number): CepEvent {
  const u = hash(n) % KEYS;
  const t = hash(n ^ 0x5bd1e995) % 10 === 0 ? 'login' : 'purchase';
  // Mostly at home (u % 3); one event in 20 from another country.
  const c = hash(n ^ 0x27d4eb2f) % 20 === 0 ? (u + 1) % 3 : u % 3;
  return { u, t, c, n };
}

export const timestampAt = (n: number) => BASE_TS + Math.floor((n * 1000) / EVENTS_PER_SECOND);

export class CepBackend implements LogBackend {
  readonly kind = 'memory' as const;
  readonly partitionCount: number;
  readonly perPartition: number;
  readonly totals = new Totals();
  readonly #pool: Uint8Array[] = [];
  readonly #topics = new Map<string, number>();

  constructor(events: number, partitions: number) {
    this.partitionCount = partitions;
    this.perPartition = Math.ceil(events / partitions);
    const encoder = new TextEncoder();
    // Pool entries carry their event number, so the pool covers every event (up to POOL).
    for (let i = 0; i < Math.min(POOL * 2, events); i++) this.#pool.push(encoder.encode(JSON.stringify(cepEventAt(i))));
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
    const end = Math.min(this.perPartition, offset + maxRecords);
    const records = [];
    for (let o = offset; o < end; o++) {
      const n = o * this.partitionCount + partition;
      records.push({ key: null, value: this.#pool[n % this.#pool.length], timestamp: timestampAt(n), offset: o });
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

/**
 * The hand-written loops' reading: every partition round by round, as the engine reads, records
 * held until the round's watermark (the minimum over partitions) passes them and handed over in
 * event-time order (ties by partition, then offset), as the pattern operator releases them.
 */
export async function partitionRounds(backend: CepBackend, batchSize: number, onReleased: (batch: { e: CepEvent; ts: number }[]) => void): Promise<void> {
  const offsets = new Array(backend.partitionCount).fill(0);
  const maxTs = new Array(backend.partitionCount).fill(Number.NEGATIVE_INFINITY);
  let held: { e: CepEvent; ts: number; p: number; o: number }[] = [];
  const decoder = new TextDecoder();
  for (;;) {
    let read = 0;
    for (let p = 0; p < backend.partitionCount; p++) {
      const { records, nextOffset } = await backend.fetch('events', p, offsets[p], batchSize);
      offsets[p] = nextOffset;
      read += records.length;
      for (const r of records) held.push({ e: JSON.parse(decoder.decode(r.value!)) as CepEvent, ts: r.timestamp, p, o: r.offset });
      if (records.length > 0) maxTs[p] = records[records.length - 1].timestamp;
    }
    const watermark = read === 0 ? Number.POSITIVE_INFINITY : Math.min(...maxTs);
    const ready = held.filter((h) => h.ts < watermark).sort((a, b) => a.ts - b.ts || a.p - b.p || a.o - b.o);
    held = held.filter((h) => h.ts >= watermark);
    onReleased(ready);
    if (read === 0) break;
  }
}
