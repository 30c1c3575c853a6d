/**
 * q11, user sessions: bids per bidder per session (gap 10 s).
 * Rows: `{ bidder, bid_count, start, end }`; a session ends `gap` after its last bid.
 */
import { type Sluice, Windows } from '../../../src/index.ts';
import type { Codecs } from '../codecs.ts';
import { bids, OUTPUT_TOPIC } from './common.ts';

export function q11(app: Sluice, codecs: Codecs): void {
  bids(app, codecs)
    .keyBy((b) => b.bidder)
    .window(Windows.session('10s'))
    .count()
    .map((r) => ({ bidder: r.key, bid_count: r.value, start: r.start, end: r.end }))
    .to(OUTPUT_TOPIC, { codec: codecs.row });
}
