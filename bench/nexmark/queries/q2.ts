/** q2, selection: `SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0`. */
import type { Sluice } from '../../../src/index.ts';
import type { Codecs } from '../codecs.ts';
import { bids, OUTPUT_TOPIC } from './common.ts';

export function q2(app: Sluice, codecs: Codecs): void {
  bids(app, codecs)
    .filter((b) => b.auction % 123 === 0)
    .map((b) => ({ auction: b.auction, price: b.price }))
    .to(OUTPUT_TOPIC, { codec: codecs.row });
}
