/** q3 by hand: local sellers by id, and category-10 auctions waiting for their seller; each pair once. */
import type { Auction, Person } from '../model.ts';
import type { Emit, EventAt } from './types.ts';

const STATES = new Set(['OR', 'ID', 'CA']);

export function q3(count: number, eventAt: EventAt, emit: Emit): void {
  const persons = new Map<number, Person>();
  const waiting = new Map<number, Auction[]>();
  const row = (a: Auction, p: Person): void => emit({ name: p.name, city: p.city, state: p.state, id: a.id });
  for (let i = 0; i < count; i++) {
    const e = eventAt(i);
    if (e.type === 'person') {
      if (!STATES.has(e.state)) continue;
      persons.set(e.id, e);
      for (const a of waiting.get(e.id) ?? []) row(a, e);
      waiting.delete(e.id);
    } else if (e.type === 'auction' && e.category === 10) {
      const p = persons.get(e.seller);
      if (p !== undefined) row(e, p);
      else {
        const list = waiting.get(e.seller);
        if (list === undefined) waiting.set(e.seller, [e]);
        else list.push(e);
      }
    }
  }
}
