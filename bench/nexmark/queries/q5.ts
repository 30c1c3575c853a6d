/**
 * q5, hot items: the auctions with the most bids in each hopping window (10 s, sliding 2 s).
 * The reference SQL joins the per-auction counts with their per-window maximum. In the DSL:
 * count per auction per hopping window, then re-key the counts by their window's end and
 * gather them in a 2 s tumbling window. A result of window [s, e) carries event time e - 1,
 * so all counts of one hopping window (and only those: ends are 2 s apart) land in the
 * tumbling window [e - 2 s, e), which keeps the maximum and the auctions that reach it.
 * Rows: `{ auction, num, start, end }` (the reference's auction and num, plus the window).
 */
import { type Sluice, Windows } from '../../../src/index.ts';
import type { Codecs } from '../codecs.ts';
import { bids, OUTPUT_TOPIC } from './common.ts';

interface Hottest {
  num: number;
  start: number;
  auctions: number[];
}

export function q5(app: Sluice, codecs: Codecs): void {
  bids(app, codecs)
    .keyBy((b) => b.auction)
    .window(Windows.hopping('10s', '2s'))
    .count()
    .keyBy((r) => r.end)
    .window(Windows.tumbling('2s'))
    .aggregate<Hottest>(
      () => ({ num: 0, start: 0, auctions: [] }),
      (_end, r, acc) => {
        if (r.value > acc.num) {
          acc.num = r.value;
          acc.start = r.start;
          acc.auctions = [r.key];
        } else if (r.value === acc.num) acc.auctions.push(r.key);
        return acc;
      },
    )
    .flatMap((w) => w.value.auctions.map((auction) => ({ auction, num: w.value.num, start: w.value.start, end: w.key })))
    .to(OUTPUT_TOPIC, { codec: codecs.row });
}
