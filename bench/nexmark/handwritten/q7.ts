/** q7 by hand: the leading bids of the current 10 s window, emitted when the watermark passes its end. */
import type { Bid } from '../model.ts';
import type { Emit, EventAt } from './types.ts';

const SIZE = 10_000;

export function q7(count: number, eventAt: EventAt, emit: Emit): void {
  let end = Number.NEGATIVE_INFINITY;
  let price = -1;
  let leaders: Bid[] = [];
  const fire = (): void => {
    for (const b of leaders) emit({ auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra });
    leaders = [];
    price = -1;
  };
  for (let i = 0; i < count; i++) {
    const e = eventAt(i);
    if (e.dateTime >= end) {
      fire();
      end = e.dateTime - (e.dateTime % SIZE) + SIZE;
    }
    if (e.type !== 'bid') continue;
    if (e.price > price) {
      price = e.price;
      leaders = [e];
    } else if (e.price === price) leaders.push(e);
  }
  fire();
}
