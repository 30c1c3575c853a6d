/**
 * q3, local item suggestion: auctions in category 10 with the name, city and state of their
 * seller, for sellers in Oregon, Idaho or California. The reference is a regular join of the
 * two append-only streams on `A.seller = P.id`; here each is a table by id (a person or an
 * auction is never updated) and the auctions join the person their seller names (a
 * foreign-key join), so each pair comes out once, whichever side arrives first.
 * Rows: `{ name, city, state, id }`.
 */
import type { Sluice, Stream } from '../../../src/index.ts';
import type { Codecs } from '../codecs.ts';
import type { Auction, Person } from '../model.ts';
import { OUTPUT_TOPIC, source } from './common.ts';

const STATES = new Set(['OR', 'ID', 'CA']);

export function q3(app: Sluice, codecs: Codecs): void {
  const events = source(app, codecs);
  const persons = (events.filter((e) => e.type === 'person' && STATES.has(e.state), { name: 'local-persons' }) as Stream<unknown> as Stream<Person>).keyBy((p) => p.id).toTable({ name: 'persons' });
  const auctions = (events.filter((e) => e.type === 'auction' && e.category === 10, { name: 'category-10' }) as Stream<unknown> as Stream<Auction>).keyBy((a) => a.id).toTable({ name: 'auctions' });
  auctions
    .join(persons, (a) => a.seller, (a, p) => ({ name: p.name, city: p.city, state: p.state, id: a.id }), { name: 'auction-sellers' })
    .to(OUTPUT_TOPIC, { codec: codecs.row });
}
