/**
 * The control topic `<app>.control`: how another process asks a running app for a savepoint
 * (`sluice savepoint create`) or for its measured profile (`sluice plan`). Requests and replies
 * are JSON records; the app reads requests appended after its process started and answers
 * each with the result or the error.
 *
 *   request: { "type": "savepoint", "request": "<uuid>" }
 *   reply:   { "type": "savepoint-done", "request": "<uuid>", "id": "<savepoint id>" }
 *            { "type": "savepoint-failed", "request": "<uuid>", "error": "<message>" }
 *   request: { "type": "profile", "request": "<uuid>", "sampleMs": 3000 }
 *   reply:   { "type": "profile-done", "request": "<uuid>", "profile": { ...runtime/profile.ts Profile } }
 *            { "type": "profile-failed", "request": "<uuid>", "error": "<message>" }
 */
import type { BackendWriter, LogBackend } from '../backend/index.ts';
import { jsonCodec } from '../core/index.ts';
import type { Profile } from './profile.ts';

export type ControlMessage =
  | { type: 'savepoint'; request: string }
  | { type: 'savepoint-done'; request: string; id: string }
  | { type: 'savepoint-failed'; request: string; error: string }
  | { type: 'profile'; request: string; sampleMs: number }
  | { type: 'profile-done'; request: string; profile: Profile }
  | { type: 'profile-failed'; request: string; error: string };

/** A profile request: measure for `sampleMs`, then answer. */
export interface ProfileRequest {
  request: string;
  sampleMs: number;
}

/** Longest measuring time a profile request may ask for. */
const MAX_SAMPLE_MS = 60_000;

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
  /** Profile requests read, not yet taken. */
  #profiles: ProfileRequest[] = [];
  /** Replies go out one at a time (a profile's reply comes from a timer, beside the loop's). */
  #replies: Promise<void> = Promise.resolve();

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
        if (typeof message?.request !== 'string' || !keep(record.timestamp)) continue;
        if (message.type === 'savepoint') out.push(message.request);
        else if (message.type === 'profile') this.#profiles.push({ request: message.request, sampleMs: clampSample(message.sampleMs) });
      }
      if (nextOffset <= this.#offset) break;
      this.#offset = nextOffset;
    }
    return out;
  }

  /** Profile requests read by the calls to `requests()` so far, each handed out once. */
  takeProfileRequests(): ProfileRequest[] {
    const out = this.#profiles;
    this.#profiles = [];
    return out;
  }

  reply(message: ControlMessage): Promise<void> {
    const sent = this.#replies.then(async () => {
      this.#writer ??= await this.#backend.openWriter();
      await this.#writer.send(this.#topic, [{ key: null, value: jsonCodec.encode(message), timestamp: Date.now(), partition: 0 }]);
    });
    this.#replies = sent.catch(() => {});
    return sent;
  }

  async close(): Promise<void> {
    await this.#replies;
    await this.#writer?.close();
  }
}

function clampSample(ms: unknown): number {
  return typeof ms === 'number' && Number.isFinite(ms) ? Math.min(MAX_SAMPLE_MS, Math.max(250, ms)) : 3000;
}

export function safeDecode(value: Uint8Array | null): ControlMessage | undefined {
  if (value === null) return undefined;
  try {
    return jsonCodec.decode(value) as ControlMessage;
  } catch {
    return undefined;
  }
}
