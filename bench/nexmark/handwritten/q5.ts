/**
 * q5 by hand: bid counts per auction in 2 s panes; when the watermark passes a window end e,
 * the five panes of [e - 10 s, e) are summed and the auctions with the most bids emitted.
 */
import type { Emit, EventAt } from './types.ts';

const SIZE = 10_000;
const SLIDE = 2_000;

export function q5(count: number, eventAt: EventAt, emit: Emit): void {
  const panes = new Map<number, Map<number, number>>();
  let nextEnd = Number.NaN;

  const fire = (watermark: number): void => {
    while (nextEnd <= watermark && panes.size > 0) {
      const counts = new Map<number, number>();
      for (let start = nextEnd - SIZE; start < nextEnd; start += SLIDE) {
        const pane = panes.get(start);
        if (pane === undefined) continue;
        for (const [auction, n] of pane) counts.set(auction, (counts.get(auction) ?? 0) + n);
      }
      let max = 0;
      for (const n of counts.values()) if (n > max) max = n;
      for (const [auction, n] of counts) if (n === max) emit({ auction, num: n, start: nextEnd - SIZE, end: nextEnd });
      // Panes before the next window's start are done.
      panes.delete(nextEnd - SIZE);
      nextEnd += SLIDE;
    }
  };

  for (let i = 0; i < count; i++) {
    const e = eventAt(i);
    if (e.dateTime >= nextEnd) fire(e.dateTime);
    if (e.type !== 'bid') continue;
    const paneStart = e.dateTime - (e.dateTime % SLIDE);
    if (Number.isNaN(nextEnd)) nextEnd = paneStart + SLIDE;
    let pane = panes.get(paneStart);
    if (pane === undefined) panes.set(paneStart, (pane = new Map()));
    pane.set(e.auction, (pane.get(e.auction) ?? 0) + 1);
  }
  fire(Number.POSITIVE_INFINITY);
}
