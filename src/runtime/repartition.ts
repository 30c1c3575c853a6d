/**
 * Exchanges between processes (scale-out on Kafka): a keyBy hands its records to the task owning
 * their key through a repartition topic `<app>-<keyBy>-repartition`, as in Kafka Streams. The
 * upstream task writes each record to partition murmur2(key) % n inside the process's
 * transaction (the job's output buffer); the keyed stage's task p reads partition p as its
 * source, and its read position commits with the same transactions.
 *
 * Watermarks cross too: each upstream task writes a marker record to every partition when its
 * watermark rises (and once after each start, so a task restored elsewhere hears it again);
 * the downstream task's watermark is the minimum over every upstream task's last marker (their
 * number is known: the upstream stages' task counts), with the upstream source's idle timeout
 * applied to markers, so a silent upstream stops holding it back as on the embedded log.
 *
 * Record format (the topic is internal; Kafka tools can still read it):
 * - data: key = the key's bytes (as a sink writes it, so placement agrees with murmur2),
 *   value = msgpack `[key, value, timestamp, W_before]` (keys and values keep their JS types),
 *   timestamp = the event time (0 for times before the epoch).
 * - marker: no key, no value, header `sluice-watermark` = UTF-8 `<stage>:<task>:<watermark>`.
 */
import { pack, unpack } from 'msgpackr';
import type { SourceTimeSpec } from '../api/index.ts';
import type { FetchedRecord, OutgoingRecord } from '../backend/index.ts';
import { fromUtf8, jsonCodec, utf8 } from '../core/index.ts';
import { type Element, encodeKey, type RecordErrorHandler } from '../operators/index.ts';
import type { Stage } from '../plan/index.ts';
import { BoundedOutOfOrderness, Frontier, type FrontierOptions } from '../time/index.ts';
import { type Exchange, type ExchangeSpec, keyOrReport, keyPartition, NO_KEY } from './exchange.ts';
import { type DecodedRecordSink, SourcePartition } from './source.ts';

/** The header of a watermark marker in a repartition topic. */
export const MARKER_HEADER = 'sluice-watermark';

const TOPIC_CHARS = /[^a-zA-Z0-9._-]/g;

/** The repartition topic of a keyBy stage. */
export function repartitionTopic(app: string, keyBy: string): string {
  return `${app}-${keyBy}-repartition`.replace(TOPIC_CHARS, '_');
}

/** What a process's exchanges need: which tasks it runs, and where the transaction's output goes. */
export interface RepartitionContext {
  app: string;
  /** The tasks this process runs: only they write (records and markers). */
  assigned: ReadonlySet<number>;
}

/**
 * An exchange factory writing to repartition topics. An exchange of a task this process does
 * not run is inert (the task gets no input anyway).
 */
export function repartitionExchanges(context: RepartitionContext) {
  return (spec: ExchangeSpec): Exchange => {
    if (spec.task === undefined || spec.output === undefined || spec.fromStage === undefined) {
      throw new Error('repartition exchanges need the task, stage and output of the exchange');
    }
    if (!context.assigned.has(spec.task)) return { send() {}, sendOne() {} };
    return new RepartitionExchange(repartitionTopic(context.app, spec.name), spec.targets.length, spec.fromStage, spec.task, spec.keyFn, spec.name, spec.onError, spec.output);
  };
}

export class RepartitionExchange implements Exchange {
  readonly #topic: string;
  readonly #partitions: number;
  readonly #marker: string;
  readonly #keyFn: (value: unknown) => unknown;
  readonly #name: string;
  readonly #onError: RecordErrorHandler;
  readonly #output: (topic: string, record: OutgoingRecord) => void;
  /** The last watermark this exchange announced (-Infinity after each start: it announces once more). */
  #announced = Number.NEGATIVE_INFINITY;

  constructor(topic: string, partitions: number, stage: number, task: number, keyFn: (value: unknown) => unknown, name: string, onError: RecordErrorHandler, output: (topic: string, record: OutgoingRecord) => void) {
    this.#topic = topic;
    this.#partitions = partitions;
    this.#marker = `${stage}:${task}:`;
    this.#keyFn = keyFn;
    this.#name = name;
    this.#onError = onError;
    this.#output = output;
  }

  send(elements: Element[]): void {
    for (const element of elements) this.sendOne(element.value, element);
  }

  sendOne(value: unknown, from: Element): void {
    const key = keyOrReport(this.#keyFn, value, from, this.#onError, this.#name);
    if (key === NO_KEY) return;
    const t = from.timestamp;
    this.#output(this.#topic, {
      key: encodeKey(key),
      value: pack([key, value, t, from.sourceWatermark]),
      timestamp: Number.isFinite(t) && t > 0 ? Math.floor(t) : 0,
      partition: keyPartition(key, this.#partitions),
    });
  }

  watermark(watermark: number): void {
    if (!(watermark > this.#announced)) return;
    this.#announced = watermark;
    const headers = { [MARKER_HEADER]: utf8(`${this.#marker}${watermark}`) };
    for (let p = 0; p < this.#partitions; p++) this.#output(this.#topic, { key: null, value: null, timestamp: 0, headers, partition: p });
  }
}

/**
 * A repartition partition's watermark: the minimum over the upstream tasks' markers. It takes
 * the generator's place in a SourcePartition, so the stage treats the partition as a source.
 */
export class MarkerWatermarks extends BoundedOutOfOrderness {
  readonly #frontier: Frontier;
  /** Per upstream stage (by id), the index of its first task in the frontier. */
  readonly #base: Map<number, number>;
  readonly #tasksPer: number;
  #ended = false;

  constructor(upstream: readonly number[], tasksPer: number, options: FrontierOptions) {
    super(0);
    this.#base = new Map(upstream.map((stage, i) => [stage, i * tasksPer]));
    this.#tasksPer = tasksPer;
    this.#frontier = new Frontier(upstream.length * tasksPer, options);
  }

  override get watermark(): number {
    return this.#ended ? Number.POSITIVE_INFINITY : this.#frontier.current();
  }

  /** Every upstream task ended (a bounded run): nothing more comes. */
  get allEnded(): boolean {
    for (let i = 0; i < this.#frontier.inputs; i++) if (this.#frontier.watermark(i) !== Number.POSITIVE_INFINITY) return false;
    return true;
  }

  /** A marker: upstream task `task` of stage `stage` stands at `watermark`. */
  mark(stage: number, task: number, watermark: number): void {
    const base = this.#base.get(stage);
    if (base === undefined || !(task >= 0 && task < this.#tasksPer)) return;
    this.#frontier.advance(base + task, watermark);
  }

  override observe(): number {
    return this.watermark;
  }

  override end(): void {
    this.#ended = true;
  }

  override snapshot(): { maxSeen: number; ended: boolean; marks: number[] } {
    const marks: number[] = [];
    for (let i = 0; i < this.#frontier.inputs; i++) marks.push(this.#frontier.watermark(i));
    return { maxSeen: this.watermark, ended: this.#ended, marks };
  }

  override restore(state: { maxSeen: number | null; ended: boolean; marks?: (number | null)[] }): void {
    this.#ended = state.ended;
    (state.marks ?? []).forEach((w, i) => {
      if (w !== null && i < this.#frontier.inputs) this.#frontier.advance(i, w);
    });
  }
}

/** Partition p of a repartition topic, read as the keyed stage's source. */
export class RepartitionSource extends SourcePartition {
  readonly marks: MarkerWatermarks;

  constructor(topic: string, partition: number, offset: number, marks: MarkerWatermarks, operator: string, onError: RecordErrorHandler) {
    const time: SourceTimeSpec = { watermark: { boundMs: 0 } } as SourceTimeSpec;
    super(topic, partition, offset, time, jsonCodec, operator, onError, false, marks);
    this.marks = marks;
  }

  /** Its end is known from the markers (every upstream ended), not from an end offset. */
  override get endsAtOffset(): boolean {
    return false;
  }

  override get done(): boolean {
    return this.marks.allEnded;
  }

  override decode(records: FetchedRecord[], sink: DecodedRecordSink): void {
    for (const record of records) {
      const mark = record.headers?.[MARKER_HEADER];
      if (mark !== undefined) {
        const [stage, task, w] = fromUtf8(mark).split(':');
        const watermark = Number(w);
        if (!Number.isNaN(watermark)) this.marks.mark(Number(stage), Number(task), watermark);
        continue;
      }
      if (record.value === null) continue;
      const [key, value, timestamp, sourceWatermark] = unpack(record.value) as [unknown, unknown, number, number];
      sink(value, timestamp, key, sourceWatermark, record);
    }
  }
}

/** The sources of a keyed stage reading its repartition topic: one per task, each over every upstream task's markers. */
export function repartitionSources(app: string, stage: Stage, tasks: number, committed: ReadonlyMap<number, number>, start: readonly number[], upstreamIdle: FrontierOptions, onError: RecordErrorHandler): RepartitionSource[] {
  const topic = repartitionTopic(app, stage.entry.name);
  const sources: RepartitionSource[] = [];
  for (let p = 0; p < tasks; p++) {
    const marks = new MarkerWatermarks(stage.upstream, tasks, upstreamIdle);
    sources.push(new RepartitionSource(topic, p, Math.max(committed.get(p) ?? start[p], start[p]), marks, stage.entry.name, onError));
  }
  return sources;
}
