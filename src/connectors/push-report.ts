/**
 * What a push source (HTTP, MQTT) did with what it was sent: its counters, and their report on
 * `sluice:push-source` (src/api/connector.ts) for `/metrics` and the dashboard.
 */
import { type PushSourceEvent, pushSourceChannel, type SourceContext } from '../api/index.ts';

/** What a push source did, cumulative over the source's life (its readers share it). */
export interface PushSourceStats {
  accepted: number;
  /** Requests refused because the buffer was full (HTTP 429). */
  refused: number;
  dropped: number;
  shed: number;
  /** Most records the buffer held at once. */
  maxBuffered: number;
  buffered: number;
}

export function emptyStats(): PushSourceStats {
  return { accepted: 0, refused: 0, dropped: 0, shed: 0, maxBuffered: 0, buffered: 0 };
}

/** Publishes a reader's counts (since it opened) on `sluice:push-source`, at most every 250 ms unless asked. */
export class PushSourceReport {
  readonly #context: SourceContext;
  readonly #describe: string;
  readonly #stats: PushSourceStats;
  readonly #capacity: number;
  /** The source's totals when this reader opened: a restarted job counts from zero. */
  readonly #base: PushSourceStats;
  #last = 0;

  constructor(context: SourceContext, describe: string, stats: PushSourceStats, capacity: number) {
    this.#context = context;
    this.#describe = describe;
    this.#stats = stats;
    this.#capacity = capacity;
    this.#base = { ...stats };
  }

  maybe(): void {
    if (!pushSourceChannel.hasSubscribers) return;
    const now = this.#context.clock();
    if (now - this.#last >= 250) this.publish(now);
  }

  publish(now = this.#context.clock()): void {
    if (!pushSourceChannel.hasSubscribers) return;
    this.#last = now;
    const s = this.#stats;
    const b = this.#base;
    const event: PushSourceEvent = {
      app: this.#context.app,
      source: this.#context.name,
      describe: this.#describe,
      time: now,
      accepted: s.accepted - b.accepted,
      refused: s.refused - b.refused,
      dropped: s.dropped - b.dropped,
      shed: s.shed - b.shed,
      buffered: s.buffered,
      maxBuffered: s.maxBuffered,
      capacity: this.#capacity,
    };
    pushSourceChannel.publish(event);
  }
}
