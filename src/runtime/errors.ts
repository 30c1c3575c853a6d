/**
 * Error routing: a record that fails to decode or throws in user code goes to the dead-letter
 * topic `<app name>.dlq` with the error, its source position and its original bytes; with
 * `onError: 'fail'` the run stops with a SluiceError naming the operator and position.
 *
 * Dead-letter record format (JSON value, original key bytes as the record key):
 * `{ error, code, operator, topic, partition, offset, timestamp, key, value }`, where key and
 * value are the original bytes in base64 (null when absent).
 */
import { isSluiceError, jsonCodec, type LogRecord, SluiceError, type SourcePosition } from '../core/index.ts';
import { type Element, positionOf, type RecordSink } from '../operators/index.ts';

export interface DeadLetter {
  error: string;
  code: string;
  operator: string;
  topic: string | null;
  partition: number | null;
  offset: number | null;
  timestamp: number | null;
  key: string | null;
  value: string | null;
}

function base64(bytes: Uint8Array | null | undefined): string | null {
  return bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') : null;
}

function where(position: SourcePosition | undefined): string {
  return position ? ` at ${position.topic}/${position.partition}@${position.offset}` : '';
}

export class ErrorRouter {
  readonly mode: 'dead-letter' | 'fail';
  readonly topic: string;
  readonly #sink: RecordSink;
  /** Records dead-lettered so far. */
  count = 0;

  constructor(appName: string, mode: 'dead-letter' | 'fail', sink: RecordSink) {
    this.mode = mode;
    this.topic = `${appName}.dlq`;
    this.#sink = sink;
  }

  /** Routes one failure: a dead letter, or a thrown SluiceError in 'fail' mode. */
  handle(element: Element | undefined, error: unknown, operator: string): void {
    const position = positionOf(element) ?? (isSluiceError(error) ? error.position : undefined);
    const message = error instanceof Error ? error.message : String(error);
    if (this.mode === 'fail' || element === undefined) {
      if (isSluiceError(error) && error.operator !== undefined) throw error;
      throw new SluiceError(
        isSluiceError(error) ? error.code : 'USER_FUNCTION_FAILED',
        `operator '${operator}' failed${where(position)}: ${message}. The run stopped; offsets after the last commit will be processed again on restart`,
        { cause: error, operator, ...(position ? { position } : {}) },
      );
    }
    const letter: DeadLetter = {
      error: message,
      code: isSluiceError(error) ? error.code : 'USER_FUNCTION_FAILED',
      operator,
      topic: position?.topic ?? null,
      partition: position?.partition ?? null,
      offset: position?.offset ?? null,
      timestamp: element.timestamp,
      key: base64(element.raw?.key),
      value: base64(element.raw?.value),
    };
    const record: LogRecord = { key: element.raw?.key ?? null, value: jsonCodec.encode(letter), timestamp: Date.now() };
    this.#sink.append(this.topic, record);
    this.count++;
  }

  /** The handler operators call. */
  readonly handler = (element: Element | undefined, error: unknown, operator: string): void => this.handle(element, error, operator);
}
