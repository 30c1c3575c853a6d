/**
 * Sink operators: encode elements into log records for a topic (the runtime's commit step
 * writes them), or print them. A record's key is the element's key: a string as its UTF-8
 * bytes (as Kafka clients key by strings), anything else as JSON; the value is JSON unless the
 * sink was given another codec.
 */
import { type Codec, jsonCodec, type LogRecord, utf8 } from '../core/index.ts';
import { type Element, type FusableOperator, type FusedStep, type Operator, type Output, type StepCounters, uncounted, withValue } from './operator.ts';
import { type RecordErrorHandler, rethrow } from './record-error.ts';

/** Where encoded records go until the commit step writes them. */
export interface RecordSink {
  append(topic: string, record: LogRecord): void;
  /** Appends a batch in order, as `append` would one by one (the sinks' fast path); it may keep `records`, which the caller no longer touches. */
  appendAll?(topic: string, records: LogRecord[]): void;
}

/** The bytes of a record key. */
export function encodeKey(key: unknown): Uint8Array | null {
  if (key === undefined || key === null) return null;
  // The JSON of a finite number is its String(), which is ASCII.
  if (typeof key === 'number' && Number.isFinite(key)) return asciiBytes(String(key))!;
  if (typeof key === 'string') return key.length <= SHORT_KEY ? (asciiBytes(key) ?? utf8(key)) : utf8(key);
  return jsonCodec.encode(key);
}

/** Keys up to this length are copied byte by byte when ASCII (a TextEncoder call costs more than the copy). */
const SHORT_KEY = 64;

/** `text`'s bytes when every character is ASCII (its UTF-8 then), else undefined. */
function asciiBytes(text: string): Uint8Array | undefined {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return undefined;
    bytes[i] = c;
  }
  return bytes;
}

/**
 * Writes each element to `topic`. A task fuses it at the end of a run of stateless operators:
 * each record is encoded as it arrives, and the run's records go to the sink at once.
 * @example new TopicSinkOperator('sink-4', 'clicks-per-url', buffer)
 */
export class TopicSinkOperator implements Operator<unknown, never>, FusableOperator {
  readonly name: string;
  readonly topic: string;
  readonly #sink: RecordSink;
  readonly #onError: RecordErrorHandler;
  readonly #codec: Codec;
  /** Records encoded since the last `endRun`. */
  #records: LogRecord[] = [];

  constructor(name: string, topic: string, sink: RecordSink, onError: RecordErrorHandler = rethrow, codec: Codec = jsonCodec) {
    this.name = name;
    this.topic = topic;
    this.#sink = sink;
    this.#onError = onError;
    this.#codec = codec;
  }

  /** Encodes the batch into one array and appends it at once; records before a failing one go out before its error. */
  process(batch: Element[], _out: Output<never>): void {
    const step = this.fuse(() => {}, uncounted, 0);
    for (let i = 0; i < batch.length; i++) step(batch[i].value, batch[i]);
    this.endRun();
  }

  fuse(_next: FusedStep, counters: StepCounters, index: number): FusedStep {
    const codec = this.#codec;
    const ins = counters.in;
    return (value, from) => {
      ins[index]++;
      let record: LogRecord;
      try {
        record = { key: encodeKey(from.key), value: codec.encode(value), timestamp: from.timestamp };
      } catch (error) {
        this.endRun();
        this.#onError(withValue(from, value), error, this.name);
        return;
      }
      this.#records.push(record);
    };
  }

  endRun(): void {
    const records = this.#records;
    if (records.length === 0) return;
    this.#records = [];
    const sink = this.#sink;
    if (sink.appendAll !== undefined) sink.appendAll(this.topic, records);
    else for (let i = 0; i < records.length; i++) sink.append(this.topic, records[i]);
  }
}

/** Prints each value (strings as they are, other values as JSON), after an optional prefix. */
export class PrintOperator implements Operator<unknown, never> {
  readonly name: string;
  readonly #prefix: string;
  readonly #write: (line: string) => void;

  constructor(name: string, prefix = '', write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)) {
    this.name = name;
    this.#prefix = prefix;
    this.#write = write;
  }

  process(batch: Element[], _out: Output<never>): void {
    for (const element of batch) {
      const value = element.value;
      this.#write(this.#prefix + (typeof value === 'string' ? value : JSON.stringify(value)));
    }
  }
}

/**
 * Hands each value to a sink outside the log (`stream.to(sink)`); the runtime holds them until
 * the checkpoint gives them to the sink.
 */
export class ConnectorSinkOperator implements Operator<unknown, never> {
  readonly name: string;
  readonly #push: (value: unknown) => void;

  constructor(name: string, push: (value: unknown) => void) {
    this.name = name;
    this.#push = push;
  }

  process(batch: Element[], _out: Output<never>): void {
    for (let i = 0; i < batch.length; i++) this.#push(batch[i].value);
  }
}
