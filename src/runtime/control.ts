/**
 * The control topic `<app>.control`: how another process (`sluice savepoint create`) asks a
 * running app for a savepoint. Requests and replies are JSON records; the app reads requests
 * appended after its process started and answers each with the savepoint id or the error.
 *
 *   request: { "type": "savepoint", "request": "<uuid>" }
 *   reply:   { "type": "savepoint-done", "request": "<uuid>", "id": "<savepoint id>" }
 *            { "type": "savepoint-failed", "request": "<uuid>", "error": "<message>" }
 */
import type { BackendWriter, LogBackend } from '../backend/index.ts';
import { jsonCodec } from '../core/index.ts';

export type ControlMessage =
  | { type: 'savepoint'; request: string }
  | { type: 'savepoint-done'; request: string; id: string }
  | { type: 'savepoint-failed'; request: string; error: string };

/** How far back `open()` looks for requests sent while the app was starting. */
const RECENT_RECORDS = 1000;

export function controlTopic(app: string): string {
  return `${app}.control`;
}

/** The app's side: new requests since it started, and replies. */
export class ControlChannel {
  readonly #backend: LogBackend;
  readonly #topic: string;
  #offset = 0;
  #writer: BackendWriter | undefined;
  #checkedAt = 0;
  /** Requests sent after this process started but before the channel opened. */
  #early: string[] = [];

  constructor(backend: LogBackend, app: string) {
    this.#backend = backend;
    this.#topic = controlTopic(app);
  }

  /**
   * Opens the topic at its end, keeping the requests among its last records that were sent after
   * this process started: `savepoint create` asks as soon as the app's lock exists, which is
   * before the app gets here, and such a request must not be skipped.
   */
  async open(): Promise<void> {
    await this.#backend.ensureTopic(this.#topic, 1);
    const [end] = await this.#backend.endOffsets(this.#topic);
    const [start] = await this.#backend.startOffsets(this.#topic);
    this.#offset = Math.max(start, end - RECENT_RECORDS);
    this.#early = await this.#read(end, (timestamp) => timestamp >= performance.timeOrigin);
  }

  /** Savepoint requests appended since the last call (checked at most every 200 ms). */
  async requests(now: number): Promise<string[]> {
    const early = this.#early;
    this.#early = [];
    if (now - this.#checkedAt < 200) return early;
    this.#checkedAt = now;
    const [end] = await this.#backend.endOffsets(this.#topic);
    return [...early, ...(await this.#read(end, () => true))];
  }

  /** The savepoint requests from the current offset up to `end` whose timestamps pass `keep`. */
  async #read(end: number, keep: (timestamp: number) => boolean): Promise<string[]> {
    const out: string[] = [];
    while (this.#offset < end) {
      const { records, nextOffset } = await this.#backend.fetch(this.#topic, 0, this.#offset, 100);
      for (const record of records) {
        const message = safeDecode(record.value);
        if (message?.type === 'savepoint' && typeof message.request === 'string' && keep(record.timestamp)) out.push(message.request);
      }
      if (nextOffset <= this.#offset) break;
      this.#offset = nextOffset;
    }
    return out;
  }

  async reply(message: ControlMessage): Promise<void> {
    this.#writer ??= await this.#backend.openWriter();
    await this.#writer.send(this.#topic, [{ key: null, value: jsonCodec.encode(message), timestamp: Date.now(), partition: 0 }]);
  }

  async close(): Promise<void> {
    await this.#writer?.close();
  }
}

export function safeDecode(value: Uint8Array | null): ControlMessage | undefined {
  if (value === null) return undefined;
  try {
    return jsonCodec.decode(value) as ControlMessage;
  } catch {
    return undefined;
  }
}
