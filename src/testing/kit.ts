/**
 * The test kit: pipelines on an in-memory log with several partitions and a manual clock.
 * Put input in, run the app (bounded, or unbounded and stopped), read the output back. A
 * stepping kit (`new TestKit({ stepping: true })`) runs unbounded apps one round per `step()`,
 * so tests wait on rounds, never on time.
 */
import type { FetchedRecord, LogBackend, OutgoingRecord } from '../backend/index.ts';
import { MemoryBackend } from '../backend/memory.ts';
import { encodeKey } from '../operators/index.ts';
import { fromUtf8, jsonCodec, jsonOrText, SluiceError, utf8 } from '../core/index.ts';
import { type DeadLetter, driveJobsOn, type JobDriver, type RunSummary, type SteppedJob, WATERMARK_HEADER } from '../runtime/index.ts';
import { type RunOptions, Sluice, type SluiceOptions, setDefaultBackend } from '../sluice.ts';
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

export interface TestKitOptions {
  /** The manual clock's start, epoch ms (default 0). */
  startTime?: number;
  /**
   * Unbounded runs advance only through `step()` and `runUntilIdle()` (default false: they run
   * on their own, as in production).
   */
  stepping?: boolean;
  /** The in-memory log to run on (default a new one), such as one that compacts sooner: `new MemoryBackend({ compactedSegmentBytes: 1 })`. */
  backend?: MemoryBackend;
}

/** Rounds `runUntilIdle()` runs before it gives up on an input that never drains. */
const MAX_IDLE_ROUNDS = 100_000;

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
  readonly backend: MemoryBackend;
  readonly clock: ManualClock;
  /** Lines `print()` wrote, in order. */
  readonly printed: string[] = [];
  #spread = 0;
  readonly #stepping: boolean;
  /** Unbounded apps of a stepping kit, while they run. */
  readonly #jobs = new Set<SteppedJob>();
  /** Unbounded runs of this kit's apps started and not yet attached (they may still open state). */
  #starting = 0;
  #waiters: (() => void)[] = [];

  constructor(options: TestKitOptions = {}) {
    this.backend = options.backend ?? new MemoryBackend();
    this.clock = new ManualClock(options.startTime ?? 0);
    this.#stepping = options.stepping ?? false;
    if (this.#stepping) driveJobsOn(this.backend, this.#driver());
  }

  #driver(): JobDriver {
    return {
      attach: (job) => {
        this.#jobs.add(job);
        this.#notify();
      },
      detach: (job) => this.#jobs.delete(job),
    };
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * One round of every app of this (stepping) kit running unbounded: read what the sources
   * hold, process it, propagate watermarks, commit if the checkpoint interval is up on the
   * kit's clock. Resolves whether anything moved.
   * @example
   * const kit = new TestKit({ stepping: true });
   * const running = app.run();
   * await kit.step();
   * kit.clock.advance(1000);
   * await kit.step(); // commits: the interval is up
   * app.stop();
   * await running;
   */
  async step(): Promise<boolean> {
    const jobs = await this.#running();
    let moved = false;
    for (const job of jobs) moved = (await job.step()) || moved;
    return moved;
  }

  /** Rounds until no source has unread records and nothing is pending, then a commit: everything read is visible. */
  async runUntilIdle(): Promise<void> {
    for (let round = 0; await this.step(); round++) {
      if (round === MAX_IDLE_ROUNDS) throw new SluiceError('PIPELINE_FAILED', `the apps of this kit still move after ${MAX_IDLE_ROUNDS} rounds: something keeps writing to their input`);
    }
    for (const job of await this.#running()) await job.commit();
  }

  /** The unbounded apps running now; waits for apps whose run() was called and that still open. */
  async #running(): Promise<SteppedJob[]> {
    if (!this.#stepping) throw new SluiceError('INVALID_ARGUMENT', 'step() and runUntilIdle() drive a stepping kit: create it with new TestKit({ stepping: true })');
    while (this.#jobs.size === 0 && this.#starting > 0) {
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
      });
    }
    if (this.#jobs.size === 0) throw new SluiceError('INVALID_ARGUMENT', 'no app of this kit runs unbounded: start one with app.run() (without bounded) first');
    return [...this.#jobs];
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

  /**
   * Appends tombstones (records with a null value) for `keys` to a topic: each deletes its key
   * from a table read from the topic (`app.table(topic)`); streams skip them.
   */
  tombstones(topic: string, keys: readonly string[], options: { partitions?: number; timestamp?: (key: string, i: number) => number } = {}): this {
    this.backend.createTopicSync(topic, options.partitions ?? 1);
    const list = keys.map((key, i) => ({ key: utf8(key), value: null, timestamp: options.timestamp ? options.timestamp(key, i) : this.clock.now() }));
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
    const appOptions = { print: (line: string) => this.printed.push(line), ...options, backend: this.backend, clock: this.clock.now };
    if (!this.#stepping) return new Sluice(appOptions);
    const kit = this;
    // A stepping kit knows an unbounded run is starting, so a step() asked for while it opens waits for it.
    return new (class extends Sluice {
      override async run(runOptions: RunOptions = {}): Promise<RunSummary> {
        if (runOptions.bounded) return super.run(runOptions);
        kit.#starting++;
        let attached = false;
        const before = kit.#jobs.size;
        const running = super.run(runOptions);
        attached = kit.#jobs.size > before;
        if (attached) kit.#starting--;
        else {
          // Opening state first: the job attaches later (or the start fails).
          const settle = (): void => {
            if (attached) return;
            attached = true;
            kit.#starting--;
            kit.#notify();
          };
          kit.#waiters.push(settle);
          running.then(settle, settle);
        }
        return running;
      }
    })(appOptions);
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
    if (this.#stepping) driveJobsOn(shared, this.#driver());
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
