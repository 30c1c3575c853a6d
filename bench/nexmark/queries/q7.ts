/**
 * q7, highest bid: the bids with the highest price in each 10 s tumbling window (all of them
 * on a tie). The reference joins bids with the per-window maximum; here one aggregate per
 * window keeps the leading bids. One key, as the reference's global maximum has.
 * Rows: `{ auction, bidder, price, dateTime, extra }`.
 */
import { type Sluice, Windows } from '../../../src/index.ts';
import type { Codecs } from '../codecs.ts';
import type { Bid } from '../model.ts';
import { bids, OUTPUT_TOPIC } from './common.ts';

interface Highest {
  price: number;
  bids: Bid[];
}

export function q7(app: Sluice, codecs: Codecs): void {
  bids(app, codecs)
    .keyBy(() => 0)
    .window(Windows.tumbling('10s'))
    .aggregate<Highest>(
      () => ({ price: -1, bids: [] }),
      (_key, b, acc) => {
        if (b.price > acc.price) {
          acc.price = b.price;
          acc.bids = [b];
        } else if (b.price === acc.price) acc.bids.push(b);
        return acc;
      },
    )
    .flatMap((w) => w.value.bids.map((b) => ({ auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra })))
    .to(OUTPUT_TOPIC, { codec: codecs.row });
}
