/**
 * q22, URL directories: `SPLIT_INDEX(url, '/', 3..5)` of every bid (null past the end).
 * Rows: `{ auction, bidder, price, channel, dir1, dir2, dir3 }`.
 */
import type { Sluice } from '../../../src/index.ts';
import type { Codecs } from '../codecs.ts';
import { bids, OUTPUT_TOPIC } from './common.ts';

export function q22(app: Sluice, codecs: Codecs): void {
  bids(app, codecs)
    .map((b) => {
      const parts = b.url.split('/');
      return { auction: b.auction, bidder: b.bidder, price: b.price, channel: b.channel, dir1: parts[3] ?? null, dir2: parts[4] ?? null, dir3: parts[5] ?? null };
    })
    .to(OUTPUT_TOPIC, { codec: codecs.row });
}
