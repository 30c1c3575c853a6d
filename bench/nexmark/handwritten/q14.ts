import { countChar, hourOf } from '../queries/common.ts';
import type { Emit, EventAt } from './types.ts';

export function q14(count: number, eventAt: EventAt, emit: Emit): void {
  for (let i = 0; i < count; i++) {
    const e = eventAt(i);
    if (e.type !== 'bid') continue;
    const price = 0.908 * e.price;
    if (!(price > 1_000_000 && price < 50_000_000)) continue;
    const hour = hourOf(e.dateTime);
    const bidTimeType = hour >= 8 && hour <= 18 ? 'dayTime' : hour <= 6 || hour >= 20 ? 'nightTime' : 'otherTime';
    emit({ auction: e.auction, bidder: e.bidder, price, bidTimeType, dateTime: e.dateTime, extra: e.extra, c_counts: countChar(e.extra, 'c') });
  }
}
