import type { Emit, EventAt } from './types.ts';

export function q1(count: number, eventAt: EventAt, emit: Emit): void {
  for (let i = 0; i < count; i++) {
    const e = eventAt(i);
    if (e.type === 'bid') emit({ auction: e.auction, bidder: e.bidder, price: 0.908 * e.price, dateTime: e.dateTime, extra: e.extra });
  }
}
