/** q8 by hand: per 10 s window, the persons registered in it whose id sold an auction in it, emitted when the watermark passes its end. */
import type { Emit, EventAt } from './types.ts';

const SIZE = 10_000;

export function q8(count: number, eventAt: EventAt, emit: Emit): void {
  let start = Number.NEGATIVE_INFINITY;
  let persons = new Map<number, string>();
  let sellers = new Set<number>();
  const fire = (): void => {
    for (const [id, name] of persons) if (sellers.has(id)) emit({ id, name, starttime: start });
    persons = new Map();
    sellers = new Set();
  };
  for (let i = 0; i < count; i++) {
    const e = eventAt(i);
    if (e.dateTime >= start + SIZE) {
      fire();
      start = e.dateTime - (e.dateTime % SIZE);
    }
    if (e.type === 'person') persons.set(e.id, e.name);
    else if (e.type === 'auction') sellers.add(e.seller);
  }
  fire();
}
