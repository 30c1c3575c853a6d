import type { Emit, EventAt } from './types.ts';

export function q2(count: number, eventAt: EventAt, emit: Emit): void {
  for (let i = 0; i < count; i++) {
    const e = eventAt(i);
    if (e.type === 'bid' && e.auction % 123 === 0) emit({ auction: e.auction, price: e.price });
  }
}
