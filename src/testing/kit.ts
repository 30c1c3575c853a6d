/**
 * The test kit: pipelines on an in-memory log with several partitions and a manual clock.
 * Put input in, run the app (bounded, or unbounded and stopped), read the output back.
 */
import type { FetchedRecord, LogBackend, OutgoingRecord } from '../backend/index.ts';
import { MemoryBackend } from '../backend/memory.ts';
import { encodeKey } from '../operators/index.ts';
import { fromUtf8, jsonCodec, jsonOrText, SluiceError, utf8 } from '../core/index.ts';
import { type DeadLetter, WATERMARK_HEADER } from '../runtime/index.ts';
import { Sluice, type SluiceOptions, setDefaultBackend } from '../sluice.ts';
import { ManualClock } from './clock.ts';

export interface InputOptions<T> {
  /** Partitions of the topic (created if missing); default 1. */
  partitions?: number;
  /** Record key: records with a key go to murmur2(key) % partitions, as Kafka places them. */
  key?: (value: T, index: number) => unknown;
  /** Log timestamp of each record; default the kit's clock. */
  timestamp?: (value: T, index: number) => number;
}

/** A record read back from a topic, its value parsed from JSON (or the text when not JSON). */
export interface OutputRecord<V = unknown> {
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: V;
}

/**
 * @example
 * const kit = new TestKit();
 * kit.input('events', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { partitions: 3 });
 * const app = kit.app({ name: 'sums' });
 * app.stream<number>('events').keyBy(() => 'all').window(Windows.countTumbling(3)).sum((n) => n).to('sums');
 * await app.run({ bounded: true });
 * kit.output('sums');
 */
export class TestKit {
  readonly backend = new MemoryBackend();
  readonly clock: ManualClock;
  /** Lines `print()` wrote, in order. */
  readonly printed: string[] = [];
  #spread = 0;

  constructor(options: { startTime?: number } = {}) {
    this.clock = new ManualClock(options.startTime ?? 0);
  }

  /** Appends values (as JSON) to a topic; without a key they are spread over the partitions round-robin. */
  input<T>(topic: string, values: readonly T[], options: InputOptions<T> = {}): this {
    const partitions = this.backend.createTopicSync(topic, options.partitions ?? 1);
    const list: OutgoingRecord[] = [];
    values.forEach((value, i) => {
      const key = options.key ? encodeKey(options.key(value, i)) : null;
      const timestamp = options.timestamp ? options.timestamp(value, i) : this.clock.now();
      const partition = key === null ? this.#spread++ % partitions : undefined;
      list.push({ key, value: jsonCodec.encode(value), timestamp, ...(partition === undefined ? {} : { partition }) });
    });
    this.#flush(topic, list);
    return this;
  }

  /** Appends raw bytes (for records that must fail to decode). */
  inputRaw(topic: string, values: (string | Uint8Array)[], options: { partitions?: number; partition?: number } = {}): this {
    this.backend.createTopicSync(topic, options.partitions ?? 1);
    const list = values.map((v) => ({ key: null, value: typeof v === 'string' ? utf8(v) : v, timestamp: this.clock.now(), partition: options.partition ?? 0 }));
    this.#flush(topic, list);
    return this;
  }

  /**
   * Appends an explicit watermark W to a topic's partitions (all, or the one given): after it,
   * the partition's watermark is at least W, so windows ending by W can fire.
   */
  watermark(topic: string, watermark: number, options: { partition?: number } = {}): this {
    const partitions = this.backend.createTopicSync(topic);
    const targets = options.partition === undefined ? Array.from({ length: partitions }, (_, p) => p) : [options.partition];
    const headers = { [WATERMARK_HEADER]: utf8(String(watermark)) };
    this.#flush(topic, targets.map((partition) => ({ key: null, value: null, timestamp: this.clock.now(), partition, headers })));
    return this;
  }

  /** An app on the kit's log and clock; `print()` output is collected in `printed`. */
  app(options: Omit<SluiceOptions, 'backend' | 'clock'>): Sluice {
    return new Sluice({ print: (line) => this.printed.push(line), ...options, backend: this.backend, clock: this.clock.now });
  }

  /**
   * Makes apps created without a `backend` option (pipeline modules run as written, with a
   * dataDir) run on this kit's log, until the returned function is called.
   */
  useAsDefault(): () => void {
    const backend = this.backend;
    const shared: LogBackend = {
      kind: 'memory',
      ensureTopic: (topic, partitions) => backend.ensureTopic(topic, partitions),
      partitions: (topic) => backend.partitions(topic),
      startOffsets: (topic) => backend.startOffsets(topic),
      endOffsets: (topic) => backend.endOffsets(topic),
      fetch: (topic, partition, offset, max) => backend.fetch(topic, partition, offset, max),
      waitForData: (topic, partition, offset, timeoutMs) => backend.waitForData(topic, partition, offset, timeoutMs),
      committedOffsets: (group, topic) => backend.committedOffsets(group, topic),
      commitOffsets: (group, offsets) => backend.commitOffsets(group, offsets),
      openWriter: (options) => backend.openWriter(options),
      // The kit owns the log: an app closing "its" backend must not close it.
      close: async () => undefined,
    };
    setDefaultBackend(async () => shared);
    return () => setDefaultBackend(undefined);
  }

  /** Committed records of a topic, partition by partition, in offset order (explicit watermarks left out). */
  records<V = unknown>(topic: string): OutputRecord<V>[] {
    if (!this.backend.hasTopic(topic)) throw new SluiceError('TOPIC_NOT_FOUND', `topic '${topic}' does not exist: nothing wrote to it`);
    const out: OutputRecord<V>[] = [];
    const partitions = this.backend.createTopicSync(topic);
    for (let p = 0; p < partitions; p++) {
      for (const r of this.#readAll(topic, p)) {
        if (r.headers?.[WATERMARK_HEADER] !== undefined) continue;
        out.push({ partition: p, offset: r.offset, timestamp: r.timestamp, key: r.key === null ? null : fromUtf8(r.key), value: jsonOrText(r.value) as V });
      }
    }
    return out;
  }

  /** The committed values of a topic (see `records`). */
  output<V = unknown>(topic: string): V[] {
    return this.records<V>(topic).map((r) => r.value);
  }

  /** The dead letters of an app (`<name>.dlq`). */
  deadLetters(appName: string): DeadLetter[] {
    const topic = `${appName}.dlq`;
    return this.backend.hasTopic(topic) ? this.output<DeadLetter>(topic) : [];
  }

  #flush(topic: string, records: OutgoingRecord[]): void {
    this.backend.appendSync(topic, records, null);
  }

  #readAll(topic: string, partition: number): FetchedRecord[] {
    const out: FetchedRecord[] = [];
    let offset = 0;
    for (;;) {
      const { records, nextOffset } = this.backend.fetchSync(topic, partition, offset, 10_000);
      out.push(...records);
      if (nextOffset === offset) return out;
      offset = nextOffset;
    }
  }
}
