/**
 * One source partition: its read position, its watermark generator, and the decoding of
 * fetched records into elements. Each element carries W_before, the partition's watermark
 * just before it, advanced record by record in log order whatever the batch size.
 *
 * Explicit watermarks: a record with the header `sluice.watermark` (UTF-8 decimal epoch ms W)
 * is no data; it raises the partition's watermark to at least W, in log order. Producers that
 * know their progress (and the test kit) write them.
 */
import type { SourceTimeSpec } from '../api/index.ts';
import type { FetchedRecord } from '../backend/index.ts';
import { type Codec, fromUtf8, SluiceError } from '../core/index.ts';

/** The header of an explicit watermark record. */
export const WATERMARK_HEADER = 'sluice.watermark';
import type { Element, RecordErrorHandler } from '../operators/index.ts';
import { type BoundedOutOfOrderness, createGenerator } from '../time/index.ts';

export class SourcePartition {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to read. */
  offset: number;
  /** Bounded runs: the end offset read at start; the partition is done when reached. */
  end = Number.POSITIVE_INFINITY;
  readonly generator: BoundedOutOfOrderness;
  readonly #operator: string;
  readonly #timestamp: ((value: any) => number) | undefined;
  readonly #codec: Codec;
  readonly #onError: RecordErrorHandler;
  /** A table's source: values are `{ key, value }`, tombstones included (value null, at the log timestamp). */
  readonly #changelog: boolean;
  /** Bounded runs up to an event time: the partition ends before its first record later than this. */
  until: number | undefined;

  constructor(topic: string, partition: number, offset: number, time: SourceTimeSpec, codec: Codec, operator: string, onError: RecordErrorHandler, changelog = false) {
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
    this.generator = createGenerator(time.watermark);
    this.#timestamp = time.timestamp;
    this.#codec = codec;
    this.#operator = operator;
    this.#onError = onError;
    this.#changelog = changelog;
  }

  get done(): boolean {
    return this.offset >= this.end;
  }

  /**
   * Decodes a fetched batch; records that fail go to the error handler. Tombstones (null values)
   * are skipped by streams: a stream's values are events, and a tombstone is none. A table's
   * source keeps them: they delete their key.
   */
  toElements(records: FetchedRecord[]): Element[] {
    const elements: Element[] = [];
    const { topic, partition } = this;
    const generator = this.generator;
    const extract = this.#timestamp;
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      const mark = record.headers?.[WATERMARK_HEADER];
      if (mark !== undefined) {
        const w = Number(fromUtf8(mark));
        if (Number.isFinite(w)) generator.observe(w + generator.boundMs);
        continue;
      }
      if (record.value === null && !this.#changelog) continue;
      const source = { topic, partition, offset: record.offset };
      let value: unknown;
      let timestamp: number;
      try {
        value = record.value === null ? null : this.#codec.decode(record.value);
        timestamp = extract === undefined || value === null ? record.timestamp : extract(value);
        if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) {
          throw new SluiceError('INVALID_RECORD', `timestamp() returned ${String(timestamp)}; it must return epoch milliseconds`);
        }
      } catch (error) {
        const failed: Element = { value: undefined, timestamp: record.timestamp, sourceWatermark: generator.watermark, source, raw: record };
        this.#onError(failed, error, this.#operator);
        continue;
      }
      if (this.until !== undefined && timestamp > this.until) {
        // The run ends here: this record and those after it are the next run's.
        this.offset = record.offset;
        this.end = record.offset;
        break;
      }
      if (this.#changelog) value = { key: record.key === null ? null : fromUtf8(record.key), value };
      elements.push({ value, timestamp, key: undefined, sourceWatermark: generator.observe(timestamp), source, raw: record });
    }
    return elements;
  }
}
