/**
 * q11 by hand: one open session per bidder. A bid strictly inside a session's [start, end)
 * extends it (sessions that only touch do not merge, as in the engine); otherwise the old
 * session is emitted and a new one starts. Once a second, sessions the watermark passed are emitted.
 */
import type { Emit, EventAt } from './types.ts';

const GAP = 10_000;

interface Session {
  start: number;
  end: number;
  count: number;
}

export function q11(count: number, eventAt: EventAt, emit: Emit): void {
  const open = new Map<number, Session>();
  let nextSweep = Number.NEGATIVE_INFINITY;
  const out = (bidder: number, s: Session): void => emit({ bidder, bid_count: s.count, start: s.start, end: s.end });
  for (let i = 0; i < count; i++) {
    const e = eventAt(i);
    if (e.dateTime >= nextSweep) {
      for (const [bidder, s] of open) {
        if (s.end <= e.dateTime) {
          out(bidder, s);
          open.delete(bidder);
        }
      }
      nextSweep = e.dateTime + 1000;
    }
    if (e.type !== 'bid') continue;
    const s = open.get(e.bidder);
    if (s !== undefined && e.dateTime < s.end) {
      s.end = e.dateTime + GAP;
      s.count++;
    } else {
      if (s !== undefined) out(e.bidder, s);
      open.set(e.bidder, { start: e.dateTime, end: e.dateTime + GAP, count: 1 });
    }
  }
  for (const [bidder, s] of open) out(bidder, s);
}
