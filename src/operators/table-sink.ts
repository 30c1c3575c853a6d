/**
 * A table's changelog written to a topic (`table.to(topic)`, Kafka Streams' `KTable.toStream().to()`):
 * the record key is the table key (as `encodeKey` writes keys), the value the row, and a delete
 * a tombstone (a null value), so a compacted topic keeps the latest row per key and
 * `app.table(topic)` reads the table back. This is the table's update output mode: one upsert
 * per change, never the row it already wrote again.
 */
import { type Codec, jsonCodec, type LogRecord } from '../core/index.ts';
import type { Element, Operator, Output } from './operator.ts';
import { type RecordErrorHandler, rethrow } from './record-error.ts';
import { encodeKey, type RecordSink } from './sink.ts';
import type { Change } from './table.ts';

/** @example new TableSinkOperator('to-carts', 'carts', buffer) */
export class TableSinkOperator implements Operator<Change, never> {
  readonly name: string;
  readonly topic: string;
  readonly #sink: RecordSink;
  readonly #onError: RecordErrorHandler;
  readonly #codec: Codec;

  constructor(name: string, topic: string, sink: RecordSink, onError: RecordErrorHandler = rethrow, codec: Codec = jsonCodec) {
    this.name = name;
    this.topic = topic;
    this.#sink = sink;
    this.#onError = onError;
    this.#codec = codec;
  }

  process(batch: Element<Change>[], _out: Output<never>): void {
    for (let i = 0; i < batch.length; i++) {
      const element = batch[i];
      const row = element.value.value;
      // Update mode: a change that leaves the row as it was (a late older version, a join whose result did not change) writes nothing.
      if (row !== null && sameRow(row, element.value.previous)) continue;
      let record: LogRecord;
      try {
        record = { key: encodeKey(element.value.key), value: row === null ? null : this.#codec.encode(row), timestamp: element.timestamp };
      } catch (error) {
        this.#onError(element, error, this.name);
        continue;
      }
      this.#sink.append(this.topic, record);
    }
  }
}

function sameRow(a: unknown, b: unknown): boolean {
  return a === b || (b !== null && JSON.stringify(a) === JSON.stringify(b));
}
