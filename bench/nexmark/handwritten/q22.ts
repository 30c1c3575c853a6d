import type { Emit, EventAt } from './types.ts';

export function q22(count: number, eventAt: EventAt, emit: Emit): void {
  for (let i = 0; i < count; i++) {
    const e = eventAt(i);
    if (e.type !== 'bid') continue;
    const parts = e.url.split('/');
    emit({ auction: e.auction, bidder: e.bidder, price: e.price, channel: e.channel, dir1: parts[3] ?? null, dir2: parts[4] ?? null, dir3: parts[5] ?? null });
  }
}
