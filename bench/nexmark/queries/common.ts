/**
 * What every query shares: the topic names, the source with its event-time settings, and the
 * bids of the stream. Events arrive in event-time order, so the watermark bound is 0.
 * Windowed stages take no `name`: a named window aggregate is also a queryable store, which
 * keeps every result it emits (up to 10,000 windows per key) and costs about a sixth of q5's
 * time; their derived names are stable as long as the pipeline's shape is.
 */
import type { Sluice, Stream } from '../../../src/index.ts';
import type { Codecs } from '../codecs.ts';
import type { Bid, NexmarkEvent } from '../model.ts';

export const INPUT_TOPIC = 'nexmark';
export const OUTPUT_TOPIC = 'nexmark-out';

export function source(app: Sluice, codecs: Codecs): Stream<NexmarkEvent> {
  return app.stream<NexmarkEvent>(INPUT_TOPIC, { codec: codecs.event, timestamp: (e) => e.dateTime, watermark: 0 });
}

/** The bids. `filter` does not narrow types (it takes a boolean predicate), hence the cast. */
export function bids(app: Sluice, codecs: Codecs): Stream<Bid> {
  return source(app, codecs).filter((e) => e.type === 'bid', { name: 'bids' }) as Stream<unknown> as Stream<Bid>;
}

/** Hour of day (UTC) of an epoch-ms time. */
export function hourOf(ms: number): number {
  return Math.floor(ms / 3_600_000) % 24;
}

export function countChar(text: string, c: string): number {
  let n = 0;
  for (let i = text.indexOf(c); i >= 0; i = text.indexOf(c, i + 1)) n++;
  return n;
}
