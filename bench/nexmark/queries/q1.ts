/** q1, currency conversion: `SELECT auction, bidder, 0.908 * price AS price, dateTime, extra FROM bid`. */
import type { Sluice } from '../../../src/index.ts';
import type { Codecs } from '../codecs.ts';
import { bids, OUTPUT_TOPIC } from './common.ts';

export function q1(app: Sluice, codecs: Codecs): void {
  bids(app, codecs)
    .map((b) => ({ auction: b.auction, bidder: b.bidder, price: 0.908 * b.price, dateTime: b.dateTime, extra: b.extra }))
    .to(OUTPUT_TOPIC, { codec: codecs.row });
}
