/**
 * q14, filter and computed columns: bids whose converted price (0.908 * price) lies in
 * (1,000,000, 50,000,000), with the time of day of the bid (UTC hour: 8-18 dayTime, <= 6 or
 * >= 20 nightTime, else otherTime) and the count of 'c' in `extra`.
 * Rows: `{ auction, bidder, price, bidTimeType, dateTime, extra, c_counts }`.
 */
import type { Sluice } from '../../../src/index.ts';
import type { Codecs } from '../codecs.ts';
import { bids, countChar, hourOf, OUTPUT_TOPIC } from './common.ts';

function bidTimeType(ms: number): string {
  const hour = hourOf(ms);
  if (hour >= 8 && hour <= 18) return 'dayTime';
  if (hour <= 6 || hour >= 20) return 'nightTime';
  return 'otherTime';
}

export function q14(app: Sluice, codecs: Codecs): void {
  bids(app, codecs)
    .filter((b) => 0.908 * b.price > 1_000_000 && 0.908 * b.price < 50_000_000)
    .map((b) => ({
      auction: b.auction,
      bidder: b.bidder,
      price: 0.908 * b.price,
      bidTimeType: bidTimeType(b.dateTime),
      dateTime: b.dateTime,
      extra: b.extra,
      c_counts: countChar(b.extra, 'c'),
    }))
    .to(OUTPUT_TOPIC, { codec: codecs.row });
}
