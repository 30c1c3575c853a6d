/**
 * q8, monitor new users: the people who opened an auction in the 10 s tumbling window they
 * registered in. As the reference SQL: the auctions grouped by seller and window, joined with
 * the persons on id and window. Here a window count of each seller's auctions, then a window
 * join of the persons with those counts (a count result carries its window's end - 1, so it
 * falls in the window it counts). Rows: `{ id, name, starttime }`.
 */
import { type Sluice, type Stream, Windows } from '../../../src/index.ts';
import type { Codecs } from '../codecs.ts';
import type { Auction, Person } from '../model.ts';
import { OUTPUT_TOPIC, source } from './common.ts';

export function q8(app: Sluice, codecs: Codecs): void {
  const events = source(app, codecs);
  const persons = events.filter((e) => e.type === 'person', { name: 'persons' }) as Stream<unknown> as Stream<Person>;
  const sellers = (events.filter((e) => e.type === 'auction', { name: 'auctions' }) as Stream<unknown> as Stream<Auction>)
    .keyBy((a) => a.seller)
    .window(Windows.tumbling('10s'))
    .count();
  persons
    .join(sellers)
    .where((p) => p.id)
    .equalTo((s) => s.key)
    .window(Windows.tumbling('10s'))
    .apply((p, s) => ({ id: p.id, name: p.name, starttime: s.start }))
    .to(OUTPUT_TOPIC, { codec: codecs.row });
}
