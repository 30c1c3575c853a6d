/**
 * One source partition: its read position, its watermark generator, and the decoding of
 * fetched records into elements. Each element carries W_before, the partition's watermark
 * just before it, advanced record by record in log order whatever the batch size.
 *
 * Explicit watermarks: a record with the header `sluice.watermark` (UTF-8 decimal epoch ms W)
 * is no data; it raises the partition's watermark to at least W, in log order. Producers that
 * know their progress (and the test kit) write them.
 */
import type { SourceReader, SourceTimeSpec } from '../api/index.ts';
import type { FetchedRecord, FetchResult, LogBackend } from '../backend/index.ts';
import { type Codec, fromUtf8, SluiceError, utf8 } from '../core/index.ts';

/** The header of an explicit watermark record. */
export const WATERMARK_HEADER = 'sluice.watermark';
/** A reader's record it could not read (the header holds why): dead-lettered, never decoded. */
const SOURCE_ERROR_HEADER = 'sluice.source-error';
import { type Element, positionOf, type RecordErrorHandler, type SourceOrigin } from '../operators/index.ts';
import { type BoundedOutOfOrderness, createGenerator } from '../time/index.ts';

/**
 * Records one log read asks for at least: what a round does not take is kept for the next rounds.
 * The embedded log reads and checks whole chunks (up to 1 MiB) and batches on each read, so
 * reading a 1000-record round at a time out of a large batch (a repartition topic's batch holds
 * what a task wrote in one commit) read and checked that batch again for every round.
 */
const READ_AHEAD_RECORDS = 16_384;

export class SourcePartition {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to read. */
  offset: number;
  /** Bounded runs: the end offset read at start; the partition is done when reached. */
  end = Number.POSITIVE_INFINITY;
  /**
   * A source outside the log (`app.source(...)`): read through it instead of the backend; `offset`
   * then counts the records read (their positions in errors), and the reader's own position is
   * what a checkpoint saves.
   */
  reader: SourceReader | undefined;
  readonly generator: BoundedOutOfOrderness;
  readonly #operator: string;
  readonly #timestamp: ((value: any) => number) | undefined;
  readonly #codec: Codec;
  readonly #onError: RecordErrorHandler;
  /** A table's source: values are `{ key, value }`, tombstones included (value null, at the log timestamp). */
  readonly #changelog: boolean;
  /** Bounded runs up to an event time: the partition ends before its first record later than this. */
  until: number | undefined;
  /** The elements' shared source: with each record's offset, their position. */
  readonly #origin: SourceOrigin;
  /** Records read ahead, from `#aheadIndex` on; they start at offset `#aheadAt`, valid while `offset` is there. */
  #ahead: FetchedRecord[] = [];
  #aheadIndex = 0;
  #aheadAt = -1;
  /** The read's next offset: where the partition continues once every record read ahead is taken. */
  #aheadNext = 0;

  constructor(topic: string, partition: number, offset: number, time: SourceTimeSpec, codec: Codec, operator: string, onError: RecordErrorHandler, changelog = false, generator?: BoundedOutOfOrderness) {
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
    this.generator = generator ?? createGenerator(time.watermark);
    this.#timestamp = time.timestamp;
    this.#codec = codec;
    this.#operator = operator;
    this.#onError = onError;
    this.#changelog = changelog;
    this.#origin = { topic, partition };
  }

  get done(): boolean {
    return this.reader === undefined ? this.offset >= this.end : this.reader.done;
  }

  /**
   * One batch from the backend (through the records read ahead), or from the reader of a source
   * outside the log. Only what is returned counts as read: `offset`, which checkpoints save, is
   * the caller's, and moving it anywhere else (a restore, a seek) drops what was read ahead.
   */
  async fetch(backend: LogBackend, maxRecords: number): Promise<FetchResult> {
    const reader = this.reader;
    if (reader === undefined) {
      if (maxRecords <= 0) return backend.fetch(this.topic, this.partition, this.offset, maxRecords);
      if (this.#aheadIndex < this.#ahead.length && this.#aheadAt === this.offset) return this.#takeAhead(maxRecords);
      this.#ahead = [];
      // Whole rounds of `maxRecords`, so rounds stay full where the log has the records.
      const read = await backend.fetch(this.topic, this.partition, this.offset, Math.ceil(READ_AHEAD_RECORDS / maxRecords) * maxRecords);
      if (read.records.length <= maxRecords) return read;
      this.#ahead = read.records;
      this.#aheadIndex = 0;
      this.#aheadAt = this.offset;
      this.#aheadNext = read.nextOffset;
      return this.#takeAhead(maxRecords);
    }
    const read = await reader.read(maxRecords);
    const records: FetchedRecord[] = read.map((r, i) => {
      const record: FetchedRecord = { offset: this.offset + i, key: null, value: r.value, timestamp: r.timestamp };
      if (r.error !== undefined) record.headers = { [SOURCE_ERROR_HEADER]: utf8(r.error) };
      return record;
    });
    return { records, nextOffset: this.offset + records.length };
  }

  /** Up to `maxRecords` of the records read ahead, as the backend would have returned them. */
  #takeAhead(maxRecords: number): FetchResult {
    const from = this.#aheadIndex;
    const to = Math.min(this.#ahead.length, from + maxRecords);
    const records = this.#ahead.slice(from, to);
    const last = to === this.#ahead.length;
    const nextOffset = last ? this.#aheadNext : records[records.length - 1].offset + 1;
    this.#aheadIndex = to;
    this.#aheadAt = nextOffset;
    if (last) this.#ahead = [];
    return { records, nextOffset };
  }

  /** A bounded run ends the partition at its end offset (a repartition partition ends by its watermark markers). */
  get endsAtOffset(): boolean {
    return true;
  }

  /**
   * Decodes a fetched batch into elements; records that fail go to the error handler.
   * Tombstones (null values) are skipped by streams: a stream's values are events, and a
   * tombstone is none. A table's source keeps them: they delete their key.
   */
  toElements(records: FetchedRecord[]): Element[] {
    const elements: Element[] = [];
    const origin = this.#origin;
    this.decode(records, (value, timestamp, key, sourceWatermark, raw) => {
      elements.push({ value, timestamp, key, sourceWatermark, origin, raw });
    });
    return elements;
  }

  /** The elements' shared source partition (their position is it and the record's offset). */
  get origin(): SourceOrigin {
    return this.#origin;
  }

  /** Decodes a fetched batch as `toElements` does, handing each record to `sink` in log order instead of making an element. */
  decode(records: FetchedRecord[], sink: DecodedRecordSink): void {
    const origin = this.#origin;
    const generator = this.generator;
    const extract = this.#timestamp;
    const codec = this.#codec;
    const changelog = this.#changelog;
    const fromReader = this.reader !== undefined;
    const until = this.until;
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      const headers = record.headers;
      const mark = headers?.[WATERMARK_HEADER];
      if (mark !== undefined) {
        const w = Number(fromUtf8(mark));
        if (Number.isFinite(w)) generator.observe(w + generator.boundMs);
        continue;
      }
      if (record.value === null && !changelog) continue;
      const unreadable = fromReader ? headers?.[SOURCE_ERROR_HEADER] : undefined;
      if (unreadable !== undefined) {
        const failed: Element = { value: undefined, timestamp: record.timestamp, sourceWatermark: generator.watermark, origin, raw: record };
        this.#onError(failed, new SluiceError('INVALID_RECORD', fromUtf8(unreadable), { position: positionOf(failed)! }), this.#operator);
        continue;
      }
      let value: unknown;
      let timestamp: number;
      try {
        value = record.value === null ? null : codec.decode(record.value);
        timestamp = extract === undefined || value === null ? record.timestamp : extract(value);
        if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) {
          throw new SluiceError('INVALID_RECORD', `timestamp() returned ${String(timestamp)}; it must return epoch milliseconds`);
        }
      } catch (error) {
        const failed: Element = { value: undefined, timestamp: record.timestamp, sourceWatermark: generator.watermark, origin, raw: record };
        this.#onError(failed, error, this.#operator);
        continue;
      }
      if (until !== undefined && timestamp > until) {
        // The run ends here: this record and those after it are the next run's.
        this.offset = record.offset;
        this.end = record.offset;
        break;
      }
      if (changelog) value = { key: record.key === null ? null : fromUtf8(record.key), value };
      sink(value, timestamp, undefined, generator.observe(timestamp), record);
    }
  }
}

/** Takes one decoded record: its value, event time, key (set by a repartition source), W_before, and the fetched record. */
export type DecodedRecordSink = (value: unknown, timestamp: number, key: unknown, sourceWatermark: number, record: FetchedRecord) => void;

